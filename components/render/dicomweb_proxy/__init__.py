"""The DICOMweb proxy's nginx configuration, one module per concern:

    interface     what clients and the clouds see: paths, request classes, limits, errors (a leaf)
    origin        the check that a request came through our CDN, one type per kind
    token_check   login on: the realm, the host's files, the check's server
    archive       a cloud DICOM service: the proxy's own credential
    upstream      how nginx reaches the archive
    conf          ProxyConf, every choice in one object
    render        render_proxy_conf(ProxyConf): the sections, in order

Import from the modules: this file imports nothing, so that whoever needs only `interface` (edge.py, the clouds)
loads nothing else.
"""
