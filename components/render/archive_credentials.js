// The DICOMweb proxy's credential for a cloud DICOM service archive, run by nginx's njs: the browser never holds one.
// The share links' store (share_store.js) signs with the same functions.
//
//   sigv4   AWS HealthImaging: every forwarded request signed with Signature Version 4, with the instance role's
//           credentials from IMDSv2.
//   bearer  Azure's DICOM service: the VM's managed identity's token from the instance metadata endpoint.
//
// Written by hand because Debian 12's njs (0.7.9) has HMAC-SHA256 but no AWS or Azure library: nginx's own
// nginx-s3-gateway signs S3 only (its canonical query is S3's) and is not packaged. tests/components/render/
// test_archive_credentials.py checks every signature against botocore's SigV4Auth.
//
// Settings come from nginx variables the renderer sets (components/render/dicomweb_proxy/archive.py):
// $ohif_archive_auth (sigv4 or bearer), $ohif_archive_metadata (the instance metadata endpoint), $ohif_archive_region,
// $ohif_archive_service, $ohif_archive_resource (the token's audience), $ohif_archive_credentials_file,
// $ohif_archive_host (the Host header the proxy sends), $ohif_archive_root (the archive's DICOMweb path, to which
// $dicomweb_path is relative), $ohif_archive_token_check ("on" with login).
//
// The credential is kept in a file only the nginx user reads, shared by the workers (njs keeps nothing between
// requests), and fetched afresh before it expires: at the earlier of halfway through its life and REFRESH_SECONDS
// before its end. (AWS has the next role credentials ready at least five minutes before the old ones expire.)
var fs = require('fs');
var crypto = require('crypto');

var REFRESH_SECONDS = 300;
var EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// URI-encode as SigV4 asks: every byte but A-Z a-z 0-9 - _ . ~ (encodeURIComponent leaves !'()* as they are).
function uriEncode(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {
        return '%' + c.charCodeAt(0).toString(16).toUpperCase();
    });
}

// A query string as the service canonicalises what it receives: each name and value decoded, then encoded again,
// sorted by name, then by value. '+' is a plus, not a space.
function canonicalQuery(query) {
    if (!query) return '';
    return query.split('&').filter(function (p) { return p !== ''; }).map(function (pair) {
        var at = pair.indexOf('=');
        var name = at < 0 ? pair : pair.slice(0, at), value = at < 0 ? '' : pair.slice(at + 1);
        return [uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))];
    }).sort(function (a, b) {
        return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
    }).map(function (p) { return p[0] + '=' + p[1]; }).join('&');
}

// The path as sent, each segment encoded once more (SigV4 for services other than S3).
function canonicalPath(path) {
    return path.split('/').map(uriEncode).join('/');
}

function hmac(key, text) {
    return crypto.createHmac('sha256', key).update(text).digest();
}

function sha256Hex(text) {
    return crypto.createHash('sha256').update(text).digest('hex');
}

// The Authorization header of a request, signed with its Host, X-Amz-Date and, with a session token,
// X-Amz-Security-Token headers. request: {method, host, path, query, payloadHash}; credentials: {key, secret, token};
// amzDate: YYYYMMDDTHHMMSSZ. With a payloadHash (S3, which asks for it), the X-Amz-Content-SHA256 header carries it and
// is signed too; without, the payload is empty (a GET or HEAD to HealthImaging). S3 encodes the path once where other
// services encode it twice: the same for the share store's keys, which are base64url and slashes.
function sign(request, credentials, amzDate, region, service) {
    var payloadHash = request.payloadHash || EMPTY_SHA256;
    var headers = [['host', request.host]];
    if (request.payloadHash) headers.push(['x-amz-content-sha256', payloadHash]);
    headers.push(['x-amz-date', amzDate]);
    if (credentials.token) headers.push(['x-amz-security-token', credentials.token]);
    var signedHeaders = headers.map(function (h) { return h[0]; }).join(';');
    var canonical = [request.method, canonicalPath(request.path), canonicalQuery(request.query),
                     headers.map(function (h) { return h[0] + ':' + h[1].trim() + '\n'; }).join(''),
                     signedHeaders, payloadHash].join('\n');
    var day = amzDate.slice(0, 8);
    var scope = [day, region, service, 'aws4_request'].join('/');
    var toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
    var key = hmac(hmac(hmac(hmac('AWS4' + credentials.secret, day), region), service), 'aws4_request');
    var signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
    return 'AWS4-HMAC-SHA256 Credential=' + credentials.key + '/' + scope + ', SignedHeaders=' + signedHeaders
           + ', Signature=' + signature;
}

function amzDateOf(date) {
    return date.toISOString().replace(/[-:]/g, '').replace(/\.[0-9]{3}/, '');
}

// --- nginx: the credential file ---

function stored(file) {
    try {
        return JSON.parse(fs.readFileSync(file));
    } catch (e) {
        return null;
    }
}

function due(credential, now) {
    var life = credential.expires - credential.fetched;
    return now >= credential.expires - Math.min(REFRESH_SECONDS, life / 2);
}

async function fetchOk(url, options) {
    var reply = await ngx.fetch(url, options);
    if (!reply.ok) throw new Error(url + ': ' + reply.status);
    return reply;
}

// AWS: IMDSv2 (a session token from PUT, then the role's credentials with it).
async function instanceRoleCredential(base) {
    var session = await (await fetchOk(base + '/latest/api/token', {
        method: 'PUT', headers: {'X-aws-ec2-metadata-token-ttl-seconds': '60'}})).text();
    var headers = {'X-aws-ec2-metadata-token': session};
    var path = base + '/latest/meta-data/iam/security-credentials/';
    var role = (await (await fetchOk(path, {headers: headers})).text()).split('\n')[0];
    var c = await (await fetchOk(path + role, {headers: headers})).json();
    return {key: c.AccessKeyId, secret: c.SecretAccessKey, token: c.Token, expires: Date.parse(c.Expiration) / 1000};
}

// Azure: the managed identity's token for the service's audience.
async function managedIdentityToken(base, resource) {
    var url = base + '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=' + uriEncode(resource);
    var t = await (await fetchOk(url, {headers: {'Metadata': 'true'}})).json();
    return {token: t.access_token, expires: Number(t.expires_on)};
}

// A credential that is not about to expire, from `file` or fetched afresh into it. to: {auth (sigv4 or bearer),
// metadata (the instance metadata endpoint), resource (a bearer token's audience), file}.
async function refreshed(to) {
    var now = Date.now() / 1000;
    var credential = stored(to.file);
    if (credential && !due(credential, now)) return credential;
    credential = to.auth === 'sigv4'
        ? await instanceRoleCredential(to.metadata)
        : await managedIdentityToken(to.metadata, to.resource);
    credential.fetched = now;
    // Written whole, then renamed: a worker reading it meanwhile sees the old credential or the new, never half.
    var part = to.file + '.' + process.pid;
    fs.writeFileSync(part, JSON.stringify(credential), {mode: 0o600});
    fs.renameSync(part, to.file);
    return credential;
}

function archive(r) {
    var v = r.variables;
    return {auth: v.ohif_archive_auth, metadata: v.ohif_archive_metadata, resource: v.ohif_archive_resource,
            file: v.ohif_archive_credentials_file};
}

// auth_request: the realm token check first (where login is on), then a credential that is not about to expire.
async function access(r) {
    if (r.variables.ohif_archive_token_check === 'on') {
        var verdict = await r.subrequest('/_ohif_auth');
        if (verdict.status >= 300) return r.return(verdict.status);
    }
    try {
        await refreshed(archive(r));
    } catch (e) {
        r.error('ohif archive credential: ' + e.message);
        return r.return(503);
    }
    r.return(204);
}

// js_set, evaluated once per request: the stored credential, which the headers below share.
function credential(r) {
    return JSON.stringify(stored(r.variables.ohif_archive_credentials_file) || {});
}

function amzDate(r) {
    return r.variables.ohif_archive_auth === 'sigv4' ? amzDateOf(new Date()) : '';
}

// js_set: the Authorization header sent to the archive, in place of the user's own.
function authorization(r) {
    var v = r.variables, c = JSON.parse(v.ohif_archive_credential);
    if (v.ohif_archive_auth !== 'sigv4') return c.token ? 'Bearer ' + c.token : '';
    if (!c.key) return '';
    var request = {method: v.ohif_upstream_method, host: v.ohif_archive_host,
                   path: v.ohif_archive_root + v.dicomweb_path, query: v.args || ''};
    return sign(request, c, v.ohif_amz_date, v.ohif_archive_region, v.ohif_archive_service);
}

function securityToken(r) {
    var v = r.variables;
    return v.ohif_archive_auth === 'sigv4' ? JSON.parse(v.ohif_archive_credential).token || '' : '';
}

export default {sign, amzDateOf, sha256Hex, uriEncode, refreshed, access, credential, amzDate, authorization,
                securityToken};
