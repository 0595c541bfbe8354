// The DICOMweb proxy's token check, run by nginx's njs through `auth_request` on every DICOMweb request.
//
// Written by hand because Debian 12's njs (0.7.9) has WebCrypto but no JWT library, and cannot import
// JWK keys: we rebuild each JWKS key as SPKI DER. Settings come from nginx variables the renderer sets
// (components/render/dicomweb_proxy/token_check.py): $ohif_jwt_issuer, $ohif_jwt_client, $ohif_jwt_role,
// $ohif_jwt_skew.
//
// Accepted: RS256 only (so `none` and HS256 signed with the public key are refused), a current realm key
// by `kid`, exp/nbf within the skew, the realm's issuer, the viewer client as audience or `azp`, and the
// required realm role. A `kid` missing from the cached key set triggers one fresh fetch: that is how a
// rotated realm key reaches the proxy without a restart.
//
// A verdict is cached by the proxy (dicomweb_proxy/token_check.py: /_ohif_auth), keyed by the token's digest and
// the role asked for, and never longer than the token stays valid: an RSA verification per frame would cost more
// than the frame.
var VERDICT_SECONDS = 60;

function b64urlJson(part) {
    return JSON.parse(Buffer.from(part, 'base64url').toString());
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

// The cache key of a verdict: the Authorization header's digest, so no token is written to disk.
function digest(r) {
    return require('crypto').createHash('sha256').update(r.headersIn.Authorization || '').digest('hex');
}

// The audit log's reader: the token's subject and user name, read (not verified: the line's status says whether the
// check let the request through) from the Authorization header.
function reader(r) {
    var match = (r.headersIn.Authorization || '').match(/^Bearer [A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\./);
    if (!match) return '-';
    try {
        var claims = b64urlJson(match[1]);
        return String(claims.sub || '-') + ' ' + String(claims.preferred_username || '-');
    } catch (e) {
        return '-';
    }
}

export default {check, digest, reader};
