"""The local sandbox: the third target. It runs a stack's recipe file on this machine, with real servers.

What the recipe's operations become here:
    static_site         nginx serving the prepared viewer build as the CDN does (its headers, the CloudFront
                        Function's SPA routing run by njs, each file's Content-Type and Cache-Control)
    static_files        the files in the site's root at their path, or an nginx of their own with the CDN's
                        CORS (the CloudFront Function's preflight answers run by njs)
    dicomweb_proxy      the same rendered nginx proxy config as the cloud VM's, on its own port, or behind
                        the site's /dicom-web/ (same-origin)
    identity_provider   Keycloak (dev mode) where the stack's auth.keycloak_url says, with the realm, its accounts in
                        a PostgreSQL of its own (Debian's), as in the cloud's managed database
    publish             the rendered file beside the build
    the user's archive  Orthanc with the DICOMweb plugin where a proxy's upstream_url names a loopback port,
                        loaded with sample studies; for a cloud DICOM service (HealthImaging, Azure's), an Orthanc
                        behind a stand-in for the service and for the metadata endpoint that hands the proxy its
                        credential (sandbox/cloud_standins.py)
    the host app        for the embedded recipe, a demo page on its loopback host origin that pastes the recipe's
                        snippets (sandbox/host_page.py)
    studies.folder      left out in a local dicom-json stack: the sample studies

Every host a browser reaches speaks HTTPS with HTTP/2, as both CDNs do, with a certificate from a CA made for the
run (sandbox/tls.py); plain HTTP to it is redirected, as the CDNs redirect it.

Operations only record what the recipe asked for; `finish()` resolves the recipe's Outputs (every URL is
known up front: ports on 127.0.0.1), and `up()` then claims the ports (sandbox/registry.py) and starts the
servers. A reaper (sandbox/reaper.py) stops them and removes the run directory however the sandbox ends,
and `watch()` ends it, naming the server, when one of them dies.

    sandbox/target.py     the operations, recorded in a Plan
    sandbox/lifecycle.py  Sandbox: up (the reaper first), watch, restart, replace_keycloak, down
    sandbox/servers.py    the starter of each server, from the Plan
    sandbox/staging.py    the files laid out as the cloud's storage keeps them
"""

from sandbox.lifecycle import Sandbox, SandboxUrls
from sandbox.servers import AUDIT_LOG
from sandbox.staging import worker_dir

__all__ = ["AUDIT_LOG", "Sandbox", "SandboxUrls", "worker_dir"]

