// CORS preflights for files on an origin of their own: a CloudFront Function (viewer request,
// cloudfront-js-2.0), also run by the sandbox's nginx through njs.
//
// OHIF's image loader sets an Accept header, so the browser sends a preflight (OPTIONS) before every
// DICOM file; a host that answers it with anything but 2xx leaves the viewport black. Private storage
// behind the CDN answers no preflight, so the edge does, for the allowed origins only. Other requests
// pass on, to their precompressed variant (precompressed.js, rendered in front of this code); the CDN's CORS
// response headers then name the allowed origin.
var ALLOWED_ORIGINS = [];
var ALLOWED_METHODS = 'GET, HEAD';
var ALLOWED_HEADERS = 'Accept';

function handler(event) {
    var request = event.request;
    if (request.method !== 'OPTIONS') {
        return withEncoding(request);
    }
    var origin = request.headers.origin ? request.headers.origin.value : '';
    if (ALLOWED_ORIGINS.indexOf(origin) < 0) {
        return {statusCode: 403, statusDescription: 'Forbidden'};
    }
    return {
        statusCode: 204,
        statusDescription: 'No Content',
        headers: {
            'access-control-allow-origin': {value: origin},
            'access-control-allow-methods': {value: ALLOWED_METHODS},
            'access-control-allow-headers': {value: ALLOWED_HEADERS},
            'access-control-max-age': {value: '600'},
            'vary': {value: 'Origin'}
        }
    };
}
