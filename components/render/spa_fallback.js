// The SPA fallback: a CloudFront Function (viewer request, cloudfront-js-2.0), also run by the
// sandbox's nginx through njs, so both hosts route deep links with this one piece of code.
//
// A request for a route of the single-page app (`/viewer?StudyInstanceUIDs=…`, `/callback`) gets
// index.html; a request for a file (a name with an extension holding a letter) is served as it is,
// so a missing bundle is a real 404 instead of HTML that the browser would try to run.
// Segments such as `1.2.840.10008` (DICOM UIDs) hold no letter after the dot, so they stay routes.
// A file then gets its precompressed variant (precompressed.js, rendered in front of this code).
var BASE_PATH = '/';

function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.indexOf(BASE_PATH) === 0 || uri + '/' === BASE_PATH) {
        var last = uri.substring(uri.lastIndexOf('/') + 1);
        if (!/\.[a-z0-9]*[a-z][a-z0-9]*$/i.test(last)) {
            request.uri = BASE_PATH + 'index.html';
        }
    }
    return withEncoding(request);
}
