// What a DICOMweb request may reach, checked by the proxy's nginx with njs (one module, imported as ohif_access):
//
// 1. Its query must decode (queryRefused), with or without login, in nginx's rewrite phase.
// 2. With login, a token's study scope (its dicom_studies claim: a scoped reader's, or a share link's) holds it to
//    those studies (scopeRefused, scopedArgs), also in the rewrite phase, before the cache.
// 3. With login, the token itself (check), through `auth_request` in the access phase.
// 4. With share links, a sharer's links for one study: created (createShare), listed (listShares) and revoked
//    (revokeShare), each recorded in the cloud's storage through the share store (share_store.js).
//
// Written by hand because Debian 12's njs (0.7.9) has WebCrypto but no JWT library, and cannot import JWK keys: we
// rebuild each JWKS key as SPKI DER; and no DICOMweb library knows this proxy's rule. Settings come from nginx
// variables the renderer sets (components/render/dicomweb_proxy/token_check.py and study_scope.py).
//
// The token check accepts RS256 only for realm tokens (so `none` and HS256 signed with the public key are refused),
// a current realm key by `kid`, exp/nbf within the skew, the realm's issuer, the viewer client as audience or `azp`,
// and the required realm role. A `kid` missing from the cached key set triggers one fresh fetch: that is how a
// rotated realm key reaches the proxy without a restart.
//
// Share links (on when the stack has `ohif:share`) are HS256 tokens this proxy signs itself (createShare) with the
// stack's share key, for one study: their signature, issuer, expiry, ID and study are checked here, and they only
// read. The keys ($ohif_share_keys: {"signing": kid, "keys": {kid: base64url}}) come from the cloud's secret store.
// HS256 is accepted only against those keys, never a realm key. A revoked link (revoked/<id> in the share store) is
// refused: the store's answer is cached $ohif_share_seconds and so is a share's verdict, so a revocation reaches every
// proxy within twice that. A store that does not answer refuses every share link (fail closed).
//
// The scope is read from the token's claims before its signature is checked: the token check, in the access phase
// that follows, refuses every token that is not the realm's or the stack's, so a request gets data only when the
// scope it was held to is genuine. A forged token is refused in the one phase (403) or the other (401).
//
// A verdict is cached by the proxy (dicomweb_proxy/token_check.py: /_ohif_auth), keyed by the token's digest and
// the role asked for, and never longer than the token stays valid: an RSA verification per frame would cost more
// than the frame.
var VERDICT_SECONDS = 60;
var SHARE_ID = /^[A-Za-z0-9_-]{22}$/;
var SHARE_ISSUER = 'ohif-share';
var STUDY_UID = /^[0-9]+(\.[0-9]+)*$/;
var SCOPE_CLAIM = 'dicom_studies';
var STUDY_UID_NAMES = ['StudyInstanceUID', '0020000D'];

function b64urlJson(part) {
    return JSON.parse(Buffer.from(part, 'base64url').toString());
}

// The Authorization header's token claims, not verified (see above); null without a readable bearer token.
function bearerClaims(r) {
    var match = (r.headersIn.Authorization || '').match(/^Bearer [A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\./);
    if (!match) return null;
    try {
        return b64urlJson(match[1]);
    } catch (e) {
        return null;
    }
}

function derLength(n) {
    if (n < 0x80) return Buffer.from([n]);
    if (n < 0x100) return Buffer.from([0x81, n]);
    return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function der(tag, body) {
    return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derInteger(bytes) {
    var i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    bytes = bytes.slice(i);
    return der(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

// SubjectPublicKeyInfo { rsaEncryption, BIT STRING RSAPublicKey { n, e } } (RFC 3279 §2.3.1).
function rsaSpki(jwk) {
    var rsaKey = der(0x30, Buffer.concat([derInteger(Buffer.from(jwk.n, 'base64url')),
                                          derInteger(Buffer.from(jwk.e, 'base64url'))]));
    var algorithm = Buffer.from('300d06092a864886f70d0101010500', 'hex');
    return der(0x30, Buffer.concat([algorithm, der(0x03, Buffer.concat([Buffer.from([0]), rsaKey]))]));
}

async function signingKey(r, kid) {
    var locations = ['/_ohif_jwks', '/_ohif_jwks_fresh'];
    for (var i = 0; i < locations.length; i++) {
        var reply = await r.subrequest(locations[i]);
        if (reply.status !== 200) continue;
        var keys = JSON.parse(reply.responseText).keys || [];
        var jwk = keys.find(function (k) { return k.kid === kid && k.kty === 'RSA' && (k.use || 'sig') === 'sig'; });
        if (jwk) return jwk;
    }
    return null;
}

function deny(r, why) {
    r.warn('ohif jwt: ' + why);
    r.return(401);
}

async function check(r) {
    var v = r.variables;
    var auth = r.headersIn.Authorization || '';
    var match = auth.match(/^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/);
    if (!match) return deny(r, 'no bearer token');
    var header, claims;
    try {
        header = b64urlJson(match[1]);
        claims = b64urlJson(match[2]);
    } catch (e) {
        return deny(r, 'malformed token');
    }
    if (header.alg === 'HS256') return checkShare(r, header, claims, match);
    if (header.alg !== 'RS256') return deny(r, 'alg ' + header.alg);
    var jwk = await signingKey(r, header.kid);
    if (!jwk) return deny(r, 'unknown kid ' + header.kid);
    var key = await crypto.subtle.importKey('spki', rsaSpki(jwk), {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'},
                                            false, ['verify']);
    var valid = await crypto.subtle.verify({name: 'RSASSA-PKCS1-v1_5'}, key, Buffer.from(match[3], 'base64url'),
                                           Buffer.from(match[1] + '.' + match[2]));
    if (!valid) return deny(r, 'bad signature');

    var now = Date.now() / 1000, skew = Number(v.ohif_jwt_skew);
    if (typeof claims.exp !== 'number' || now > claims.exp + skew) return deny(r, 'expired');
    if (typeof claims.nbf === 'number' && now < claims.nbf - skew) return deny(r, 'not yet valid');
    if (claims.iss !== v.ohif_jwt_issuer) return deny(r, 'issuer ' + claims.iss);
    var audiences = [].concat(claims.aud || []);
    if (audiences.indexOf(v.ohif_jwt_client) < 0 && claims.azp !== v.ohif_jwt_client) return deny(r, 'audience');
    var roles = (claims.realm_access && claims.realm_access.roles) || [];
    if (roles.indexOf(v.ohif_jwt_role) < 0) return deny(r, 'missing role ' + v.ohif_jwt_role);
    // nginx caches this answer for X-Accel-Expires seconds: not past the moment this check would refuse the token.
    r.headersOut['X-Accel-Expires'] = String(Math.max(0, Math.min(VERDICT_SECONDS, Math.floor(claims.exp + skew - now))));
    r.return(204);
}

function shareKeys(r) {
    try {
        return JSON.parse(r.variables.ohif_share_keys || '{}');
    } catch (e) {
        return {};
    }
}

function hs256(key, data) {
    return require('crypto').createHmac('sha256', Buffer.from(key, 'base64url')).update(data).digest('base64url');
}

// Compared in constant time: an early return would tell a forger how much of a signature was right.
function sameText(a, b) {
    if (a.length !== b.length) return false;
    var diff = 0;
    for (var i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    return diff === 0;
}

async function checkShare(r, header, claims, parts) {
    var v = r.variables;
    if (v.ohif_jwt_role !== v.ohif_jwt_reader_role) return deny(r, 'a share link only reads');
    var key = (shareKeys(r).keys || {})[header.kid];
    if (!key) return deny(r, 'unknown share kid ' + header.kid);
    if (!sameText(hs256(key, parts[1] + '.' + parts[2]), parts[3])) return deny(r, 'bad share signature');
    var now = Date.now() / 1000;
    if (claims.iss !== SHARE_ISSUER) return deny(r, 'share issuer ' + claims.iss);
    if (typeof claims.exp !== 'number' || now > claims.exp) return deny(r, 'share expired');
    var studies = claims.dicom_studies;
    if (typeof claims.jti !== 'string' || !SHARE_ID.test(claims.jti) || !Array.isArray(studies)
        || studies.length !== 1) {
        return deny(r, 'share claims');
    }
    var revoked = await r.subrequest('/_ohif_revoked/' + claims.jti);
    if (revoked.status === 200) return deny(r, 'share revoked');
    if (revoked.status !== 404) {
        r.error('ohif share: the share store answered ' + revoked.status);
        return r.return(503);
    }
    r.headersOut['X-Accel-Expires'] = String(Math.max(0, Math.min(Number(v.ohif_share_seconds), Math.floor(claims.exp - now))));
    r.return(204);
}

function answer(r, status, body) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify(body));
}

// The share store (share_store.js), on loopback: method and key (a folder, ending in '/', lists its keys).
function store(r, method, key, body) {
    var options = {method: method};
    if (body !== undefined) options.body = JSON.stringify(body);
    return ngx.fetch('http://' + r.variables.ohif_share_store_listen + '/store/' + key, options);
}

// Where a sharer's links are recorded: a digest of their subject, so no user name is a storage key.
function owner(claims) {
    var digest = require('crypto').createHash('sha256').update(String(claims.sub)).digest('hex');
    return 'shares/' + digest.slice(0, 32) + '/';
}

function storeFailed(r, what, status) {
    r.error('ohif share: the share store answered ' + status + ' to ' + what);
    answer(r, 503, {error: 'share links: the share store did not answer; try again'});
}

// js_content of the share endpoint: POST {"study": uid, "minutes": n} creates a link for one study the sharer reads
// (as the study scope decides for any of their requests), GET lists the sharer's own links. Behind the token check
// with the sharer role.
function shares(r) {
    return r.method === 'GET' ? listShares(r) : createShare(r);
}

async function createShare(r) {
    var v = r.variables;
    var keys = shareKeys(r);
    var key = keys.keys && keys.keys[keys.signing];
    if (!key) return answer(r, 503, {error: 'share links: the signing key has not reached this proxy yet'});
    var asked;
    try {
        asked = JSON.parse(r.requestText || '');
    } catch (e) {
        asked = null;
    }
    if (!asked || typeof asked !== 'object' || Array.isArray(asked)) {
        return answer(r, 400, {error: 'body: a JSON object {"study": StudyInstanceUID, "minutes": lifetime}'});
    }
    var shortest = Number(v.ohif_share_min_minutes), longest = Number(v.ohif_share_max_minutes);
    var minutes = asked.minutes === undefined ? Number(v.ohif_share_default_minutes) : asked.minutes;
    if (typeof asked.study !== 'string' || asked.study.length > 64 || !STUDY_UID.test(asked.study)) {
        return answer(r, 400, {error: 'study: a StudyInstanceUID'});
    }
    if (!Number.isInteger(minutes) || minutes < shortest || minutes > longest) {
        return answer(r, 400, {error: 'minutes: a whole number from ' + shortest + ' to ' + longest});
    }
    // Verified in the access phase; only their scope and reader role are read here.
    var sharer = bearerClaims(r);
    var roles = (sharer.realm_access && sharer.realm_access.roles) || [];
    // The study scope's own rule, asked of the study's path (scopeRefused reads $dicomweb_path).
    v.dicomweb_path = 'studies/' + asked.study;
    if (roles.indexOf(v.ohif_share_reader_role) < 0 || v.ohif_scope_refused) {
        return answer(r, 403, {error: 'outside the studies this token may read'});
    }
    var now = Math.floor(Date.now() / 1000);
    var id = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
    var name = String(sharer.preferred_username || sharer.sub);
    var head = Buffer.from(JSON.stringify({alg: 'HS256', typ: 'JWT', kid: keys.signing})).toString('base64url');
    var body = Buffer.from(JSON.stringify({
        iss: SHARE_ISSUER, jti: id, dicom_studies: [asked.study], iat: now, exp: now + minutes * 60,
        sharer: name, sharer_sub: String(sharer.sub)
    })).toString('base64url');
    var record = {id: id, study: asked.study, created: new Date(now * 1000).toISOString(),
                  expires: new Date((now + minutes * 60) * 1000).toISOString(), sharer: name};
    // Recorded before it is handed out: a link that cannot be listed is never made.
    var stored = await store(r, 'PUT', owner(sharer) + id, record);
    if (stored.status !== 204) return storeFailed(r, 'a new link', stored.status);
    v.ohif_share_id = id;
    record.token = head + '.' + body + '.' + hs256(key, head + '.' + body);
    answer(r, 201, record);
}

// GET of the share endpoint: the sharer's own links, each with whether it is revoked.
async function listShares(r) {
    var folder = owner(bearerClaims(r));
    var listed = await store(r, 'GET', folder);
    if (listed.status !== 200) return storeFailed(r, 'a list', listed.status);
    var listing = await listed.text();
    var ids = JSON.parse(listing).keys.map(function (k) { return k.slice(folder.length); });
    var links = await Promise.all(ids.filter(function (id) { return SHARE_ID.test(id); }).map(async function (id) {
        var replies = await Promise.all([store(r, 'GET', folder + id), store(r, 'GET', 'revoked/' + id)]);
        if (replies[0].status !== 200 || [200, 404].indexOf(replies[1].status) < 0) {
            throw new Error(id + ': ' + replies[0].status + ' ' + replies[1].status);
        }
        var record = await replies[0].text();
        var link = JSON.parse(record);
        link.revoked = replies[1].status === 200;
        return link;
    })).catch(function (e) { return e; });
    if (links instanceof Error) return storeFailed(r, 'a listed link', links.message);
    links.sort(function (a, b) { return a.created < b.created ? 1 : a.created > b.created ? -1 : 0; });
    answer(r, 200, {shares: links});
}

// js_content of DELETE <shares>/<id>: its creator, or a sharer with the share admin role, revokes a link. Every proxy
// refuses it within twice $ohif_share_seconds (checkShare).
async function revokeShare(r) {
    var v = r.variables, id = v.ohif_revoke_id, claims = bearerClaims(r);
    var roles = (claims.realm_access && claims.realm_access.roles) || [];
    var own = await store(r, 'GET', owner(claims) + id);
    if (own.status !== 200 && own.status !== 404) return storeFailed(r, 'a link to revoke', own.status);
    if (own.status === 404 && roles.indexOf(v.ohif_share_admin_role) < 0) {
        return answer(r, 404, {error: 'no share link of yours has this ID'});
    }
    var revoked = await store(r, 'PUT', 'revoked/' + id, {
        id: id, at: new Date().toISOString(), by: String(claims.preferred_username || claims.sub)});
    if (revoked.status !== 204) return storeFailed(r, 'a revocation', revoked.status);
    r.return(204);
}

// The cache key of a verdict: the Authorization header's digest, so no token is written to disk.
function digest(r) {
    return require('crypto').createHash('sha256').update(r.headersIn.Authorization || '').digest('hex');
}

// The audit log's reader: the token's subject and user name (a share link's ID and its creator), read (not verified:
// the line's status says whether the check let the request through) from the Authorization header.
function reader(r) {
    var claims = bearerClaims(r);
    if (!claims) return '-';
    if (claims.iss === SHARE_ISSUER) return 'share:' + String(claims.jti) + ' ' + String(claims.sharer);
    return String(claims.sub || '-') + ' ' + String(claims.preferred_username || '-');
}

// [[name, value]] of a query string, each decoded ('+' stays a plus, as the archive and SigV4 read it); throws
// URIError on a broken percent-encoding or bytes that are not UTF-8.
function parameters(query) {
    return (query || '').split('&').filter(function (p) { return p !== ''; }).map(function (pair) {
        var at = pair.indexOf('=');
        return [decodeURIComponent(at < 0 ? pair : pair.slice(0, at)),
                decodeURIComponent(at < 0 ? '' : pair.slice(at + 1))];
    });
}

// js_set: "1" when the request's query cannot be decoded, so the proxy answers 400 itself: such a query would
// reach the archive unchecked, and a signer could not sign it.
function queryRefused(r) {
    try {
        parameters(r.variables.args);
        return '';
    } catch (e) {
        return '1';
    }
}

// The studies the request's token may read: a list of UIDs, or null for the whole archive.
function scopeOf(r) {
    var c = bearerClaims(r);
    var listed = c && c[SCOPE_CLAIM];
    if (listed === undefined || listed === null) {
        return r.variables.ohif_unscoped_readers === 'refused' && c ? [] : null;
    }
    return [].concat(listed).map(String);
}

// The UIDs a query names as StudyInstanceUID (by keyword or tag), as a UID list (PS3.18 §8.3.4.1: `,` or `\`).
function queriedStudies(query) {
    var uids = [];
    parameters(query).forEach(function (p) {
        if (STUDY_UID_NAMES.indexOf(p[0]) >= 0 || p[0].toUpperCase() === '0020000D') {
            uids = uids.concat(p[1].split(/[,\\]/));
        }
    });
    return uids;
}

// js_set: "1" when the token carries a scope and the request reaches outside it. $dicomweb_path is the path below
// the DICOMweb root the location captured.
//   studies/{uid}[/...]      the study must be in the scope (its series and instance searches too);
//   studies                  every StudyInstanceUID the search names must be; none named, scopedArgs names them
//                            for a reader, and a share link (which opens its study by UID) is refused;
//   series, instances        searches across every study: refused;
// and any StudyInstanceUID a query names must be in the scope.
function scopeRefused(r) {
    var scope = scopeOf(r);
    if (scope === null) return '';
    var path = r.variables.dicomweb_path || '';
    var study = path.match(/^studies\/([0-9.]+)/);
    if (study) {
        if (scope.indexOf(study[1]) < 0) return '1';
    } else if (path !== 'studies' || r.method === 'POST' || scope.length === 0) {
        return '1';
    }
    try {
        var named = queriedStudies(r.variables.args);
        if (!study && named.length === 0 && bearerClaims(r).iss === SHARE_ISSUER) return '1';
        return named.every(function (uid) { return scope.indexOf(uid) >= 0; }) ? '' : '1';
    } catch (e) {
        return '1';
    }
}

// js_set: the query sent on. A scoped token's study search that names no study names every study of its scope, so
// the archive never answers with another (UID list matching, PS3.18 §8.3.4.1, with commas: Orthanc's DICOMweb
// plugin matches nothing for a backslash list).
function scopedArgs(r) {
    var args = r.variables.args || '';
    var scope = scopeOf(r);
    if (scope === null || scope.length === 0 || r.variables.dicomweb_path !== 'studies') return args;
    if (queriedStudies(args).length > 0) return args;
    return (args ? args + '&' : '') + 'StudyInstanceUID=' + scope.map(encodeURIComponent).join(',');
}

export default {check, shares, revokeShare, digest, reader, queryRefused, scopeRefused, scopedArgs};
