// The share links' store: each link's record (shares/<owner>/<id>) and each revocation (revoked/<id>), kept in the
// cloud's object storage (an S3 bucket, or a Blob container), so that they reach every proxy and outlive every VM.
// The proxy proves itself with its VM's own identity (archive_credentials.js), as to a cloud DICOM service.
//
// Served by the proxy's nginx on loopback only (dicomweb_proxy/share_store.py), for access.js:
//   GET /store/<key>      200 with the object, or 404
//   PUT /store/<key>      204 once stored
//   GET /store/<folder>/  200 {"keys": [...]}: the keys under it (at most one page: 1000 on S3, 5000 on Blob)
// Anything else the storage answers is a 502, on which the caller fails closed.
//
// Written by hand because Debian 12's njs (0.7.9) has no S3 or Blob client (see archive_credentials.js).
// Settings come from nginx variables: $ohif_share_store_auth (sigv4 or bearer), _host, _root (the bucket's or
// container's path: "" for an S3 bucket by its own host name), _region, _resource (a bearer token's audience),
// _metadata (the instance metadata endpoint) and _credentials_file.
import cloud from 'archive_credentials.js';

// The Blob service version that takes a managed identity's bearer token (2017-11-09 or later).
var BLOB_VERSION = '2021-08-06';

function settings(r) {
    var v = r.variables;
    return {auth: v.ohif_share_store_auth, host: v.ohif_share_store_host, root: v.ohif_share_store_root,
            region: v.ohif_share_store_region, resource: v.ohif_share_store_resource,
            metadata: v.ohif_share_store_metadata, file: v.ohif_share_store_credentials_file};
}

// One request to the storage, signed (S3) or carrying the identity's token (Blob). `path`: below the root.
async function send(r, method, path, query, body) {
    var to = settings(r);
    var credential = await cloud.refreshed(to);
    // ngx.fetch names the host without its port, which a signature covers: named here as signed.
    var headers = {'Host': to.host};
    var fullPath = to.root + path;
    if (to.auth === 'sigv4') {
        var amzDate = cloud.amzDateOf(new Date()), payloadHash = cloud.sha256Hex(body);
        headers['Authorization'] = cloud.sign({method: method, host: to.host, path: fullPath, query: query,
                                               payloadHash: payloadHash}, credential, amzDate, to.region, 's3');
        headers['X-Amz-Date'] = amzDate;
        headers['X-Amz-Content-SHA256'] = payloadHash;
        if (credential.token) headers['X-Amz-Security-Token'] = credential.token;
    } else {
        headers['Authorization'] = 'Bearer ' + credential.token;
        headers['x-ms-version'] = BLOB_VERSION;
        if (method === 'PUT') headers['x-ms-blob-type'] = 'BlockBlob';
    }
    if (method === 'PUT') headers['Content-Type'] = 'application/json';
    var options = {method: method, headers: headers};
    if (method === 'PUT') options.body = body;
    return ngx.fetch('https://' + to.host + fullPath + (query ? '?' + query : ''), options);
}

// The keys under a folder, from the storage's XML listing (S3: each <Key>, Blob: each blob's <Name>).
async function list(r, folder) {
    var s3 = settings(r).auth === 'sigv4';
    var query = (s3 ? 'list-type=2' : 'restype=container&comp=list') + '&prefix=' + cloud.uriEncode(folder);
    var reply = await send(r, 'GET', settings(r).root ? '' : '/', query, '');
    if (reply.status !== 200) throw new Error('list ' + folder + ': ' + reply.status);
    var xml = await reply.text(), keys = [], found;
    var name = s3 ? /<Key>([^<]*)<\/Key>/g : /<Name>([^<]*)<\/Name>/g;
    while ((found = name.exec(xml)) !== null) keys.push(found[1]);
    return keys;
}

// js_content of /store/<key>: $ohif_store_key is what the location captured (shares/... or revoked/...).
async function object(r) {
    var key = r.variables.ohif_store_key;
    try {
        if (r.method === 'GET' && key.endsWith('/')) {
            var keys = await list(r, key);
            r.headersOut['Content-Type'] = 'application/json';
            return r.return(200, JSON.stringify({keys: keys}));
        }
        if (r.method !== 'GET' && r.method !== 'PUT') return r.return(405);
        var reply = await send(r, r.method, '/' + key, '', r.method === 'PUT' ? r.requestText || '' : '');
        if (r.method === 'GET' && reply.status === 404) return r.return(404);
        var text = await reply.text();
        if (!reply.ok) throw new Error(r.method + ' ' + key + ': ' + reply.status + ' ' + text);
        if (r.method === 'PUT') return r.return(204);
        r.headersOut['Content-Type'] = 'application/json';
        r.return(200, text);
    } catch (e) {
        r.error('ohif share store: ' + e.message);
        r.return(502);
    }
}

export default {object};
