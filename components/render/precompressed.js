// Precompressed variants: the part of both CloudFront Functions (viewer request, cloudfront-js-2.0) that picks
// the variant a browser gets, also run by the sandbox's nginx through njs.
//
// A file of a compressible type (other than an entry file) is stored three times: as it is, and brotli and gzip
// variants of it under the prefixes below, each with its Content-Encoding and the file's Content-Type
// (components/render/viewer_build.py). CloudFront compresses only objects of 1 KB to 10 MB, so the 17 MB
// bundle would otherwise travel raw. The request's URI becomes the variant's, so the cache keeps variants apart;
// a client that accepts neither encoding gets the file as it is.
var PRECOMPRESSED_EXTENSIONS = [];
var ENTRY_FILES = [];
var ENCODINGS = [];

// Whether an Accept-Encoding value accepts `coding` (RFC 9110 12.5.3): listed, and not with q=0.
function accepts(header, coding) {
    var items = header.split(',');
    for (var i = 0; i < items.length; i++) {
        var params = items[i].split(';');
        if (params[0].trim().toLowerCase() !== coding) {
            continue;
        }
        for (var j = 1; j < params.length; j++) {
            var param = params[j].trim().toLowerCase();
            if (param.indexOf('q=') === 0 && parseFloat(param.substring(2)) === 0) {
                return false;
            }
        }
        return true;
    }
    return false;
}

function withEncoding(request) {
    var uri = request.uri;
    var name = uri.substring(uri.lastIndexOf('/') + 1);
    var dot = name.lastIndexOf('.');
    if (dot < 0 || PRECOMPRESSED_EXTENSIONS.indexOf(name.substring(dot + 1).toLowerCase()) < 0 ||
            ENTRY_FILES.indexOf(name) >= 0) {
        return request;
    }
    var header = request.headers['accept-encoding'];
    for (var i = 0; header && i < ENCODINGS.length; i++) {
        if (accepts(header.value, ENCODINGS[i][0])) {
            request.uri = '/' + ENCODINGS[i][1] + uri.substring(1);
            break;
        }
    }
    return request;
}
