// What one DICOMweb request asks for, checked by the proxy before the archive or its cache sees it: a query that
// does not decode, and, for a token that carries a study scope, any study outside it. Run by nginx's njs as
// variables (js_set) the proxy's read locations test in nginx's rewrite phase; settings come from the variable
// $ohif_unscoped_readers ("archive" or "refused", components/render/dicomweb_proxy/study_scope.py).
//
// The scope is read from the token's claims without checking its signature: the token check, in the access phase
// that follows, refuses every token whose claims are not the realm's, so a request gets data only when the scope it
// was held to is the realm's own. A forged token is refused here (403) or there (401); neither answers with data.
//
// Written by hand: no DICOMweb library knows this proxy's rule, and njs has none to load.
var SCOPE_CLAIM = 'dicom_studies';
var STUDY_UID_NAMES = ['StudyInstanceUID', '0020000D'];
var SHARE_ISSUER = 'ohif-share';  // a share link's token (token_check.js)

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

function claims(r) {
    var match = (r.headersIn.Authorization || '').match(/^Bearer [A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\./);
    if (!match) return null;
    try {
        return JSON.parse(Buffer.from(match[1], 'base64url').toString());
    } catch (e) {
        return null;
    }
}

// The studies the request's token may read: a list of UIDs, or null for the whole archive.
function scopeOf(r) {
    var c = claims(r);
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
        if (!study && named.length === 0 && claims(r).iss === SHARE_ISSUER) return '1';
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

export default {queryRefused, scopeRefused, scopedArgs};
