"""The OHIF Viewer build, made ready to host: fetched, configured and described file by file.

Cloud-neutral: the cloud targets upload what `prepare_site()` returns, and the sandbox's nginx
serves the same directory with the same content types and Cache-Control values.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import brotli

from components.render.archive_service import DATA_SOURCES

REPO = Path(__file__).resolve().parents[2]
LOCK_FILE = REPO / "viewer" / "ohif-app.lock.json"
PRELOAD_FILE = REPO / "viewer" / "preload.json"
CACHE = REPO / ".cache"

# Types Python's mimetypes gets wrong or lacks; browsers refuse wasm streaming without application/wasm.
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "dcm": "application/dicom",
    "json": "application/json",
    "jsonc": "application/json",
    "map": "application/json",
    "webapp": "application/manifest+json",
    "wasm": "application/wasm",
    "svg": "image/svg+xml",
    "png": "image/png",
    "ico": "image/x-icon",
    "woff2": "font/woff2",
    "xml": "application/xml",
    "txt": "text/plain; charset=utf-8",
}

# What is worth compressing: text, JSON and wasm. Images, fonts and DICOM files are compressed already or binary.
COMPRESSIBLE_TYPES = ("text/html", "text/javascript", "text/css", "text/plain", "application/json",
                      "application/manifest+json", "application/wasm", "application/xml", "image/svg+xml")
# Precompressed variants, in the order the edge prefers them: each Content-Encoding and the key prefix its variants are
# stored under. A prefix, not a suffix: a variant keeps its file name (so its Content-Type and cache class), and a
# Front Door URL rewrite can add a prefix without server variables (components/azure/site_rules.py).
ENCODINGS = {"br": ".br/", "gzip": ".gz/"}
# Brotli at its best quality with a 16 MB window (the bundle is 17 MB): 2.37 MB for the bundle, against 3.33 MB with
# gzip -9 and the 17.4 MB CloudFront sends raw. It costs about 40 s a bundle, once: variants are cached by content.
BROTLI = {"quality": 11, "lgwin": 24}
GZIP_LEVEL = 9

APP_CONFIG = "app-config.js"
STUDY_MANIFEST = "studies.json"
# File names that name the current release (or study set), wherever they are: revalidated on every load.
ENTRY_FILES = ("index.html", APP_CONFIG, "sw.js", "init-service-worker.js", "manifest.json", STUDY_MANIFEST)
# webpack's content hashes (`app.bundle.0f6159c501addfe9.js`, `34b1e6b1deb5828e.wasm`) and sha256-named
# study files: safe to cache forever.
_HASHED = re.compile(r"(^|[.])([0-9a-f]{16}|[0-9a-f]{64})\.[a-z0-9]+$")
# Netlify's own files in the package: meaningless (and misleading) on any other host.
_NOT_SERVED = ("_headers", "_redirects", "serve.json")

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
SHORT = "public, max-age=3600"


@dataclass(frozen=True)
class SiteFile:
    key: str
    """The path under the site root, without the base path (`assets/favicon.ico`)."""
    path: Path
    content_type: str
    cache_control: str
    content_encoding: str | None = None
    """Set on a precompressed variant, which is stored under its encoding's prefix (object_key)."""


def object_key(path: str, f: SiteFile) -> str:
    """Where `f` is stored for files served under the URL path `path`: its key under that path, and a precompressed
    variant under its encoding's prefix, where the edge looks for it (components/render/precompressed.js)."""
    return (ENCODINGS[f.content_encoding] if f.content_encoding else "") + path.lstrip("/") + f.key


def precompressed(key: str) -> bool:
    """Whether a file has precompressed variants: every file of a compressible type but the entry files, which are
    rendered per deployment (app-config.js), small, and compressed by the CDN itself. The edge decides by the same
    name alone, so this holds for every file of every target."""
    return key.rsplit("/", 1)[-1] not in ENTRY_FILES and content_type(key).split(";")[0] in COMPRESSIBLE_TYPES


def stored_files(entries: Iterable[tuple[str, Path]]) -> list[SiteFile]:
    """A SiteFile per (key, path), with its Content-Type and Cache-Control, followed by its precompressed variants."""
    entries = list(entries)
    variants = compress_all([path for key, path in entries if precompressed(key)])
    files = []
    for key, path in entries:
        f = SiteFile(key, path, content_type(key), cache_control(key))
        files.append(f)
        if precompressed(key):
            files.extend(SiteFile(key, variant, f.content_type, f.cache_control, encoding)
                         for encoding, variant in variants[path].items())
    return files


def compressed(data: bytes) -> dict[str, Path]:
    """`data` in each of ENCODINGS, as files in the cache named by its digest: compressed once per machine, and byte
    for byte the same on every run (gzip without a timestamp), so a redeploy uploads nothing new."""
    out = _variant_paths(hashlib.sha256(data).hexdigest())
    for encoding, path in out.items():
        if not path.exists():
            encoded = (brotli.compress(data, **BROTLI) if encoding == "br"
                       else gzip.compress(data, GZIP_LEVEL, mtime=0))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_bytes(encoded)
            tmp.replace(path)
    return out


def compress_all(paths: Iterable[Path]) -> dict[Path, dict[str, Path]]:
    """compressed() of each file, the cache's misses on every core (brotli 11 of the whole build takes minutes);
    each file is read and hashed once, and once more only to compress it."""
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in dict.fromkeys(paths)}
    variants = {p: _variant_paths(d) for p, d in digests.items()}
    missing = sorted((p for p, v in variants.items() if not all(path.exists() for path in v.values())),
                     key=lambda p: -p.stat().st_size)  # the largest first, so no core waits on one at the end
    if len(missing) > 1:
        with ProcessPoolExecutor(max_workers=min(len(missing), os.cpu_count() or 1)) as pool:
            list(pool.map(_compress_file, missing, chunksize=1))
    else:
        for p in missing:
            _compress_file(p)
    return variants


def _compress_file(path: Path) -> dict[str, Path]:
    return compressed(path.read_bytes())


def _variant_paths(digest: str) -> dict[str, Path]:
    """Where the cache keeps the variants of content with this sha256, by encoding."""
    return {encoding: CACHE / "precompressed" / f"brotli-{brotli.__version__}" / f"{digest}.{encoding}"
            for encoding in ENCODINGS}


def content_type(key: str) -> str:
    ext = key.rsplit(".", 1)[-1].lower() if "." in key else ""
    return CONTENT_TYPES.get(ext, "application/octet-stream")


def cache_control(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if name in ENTRY_FILES:
        return NO_CACHE
    return IMMUTABLE if _HASHED.search(name) else SHORT


def fetch_build() -> Path:
    """The pinned `@ohif/app` build's `dist/`."""
    return fetch_package(LOCK_FILE)


def fetch_package(lock_file: Path) -> Path:
    """A pinned npm package's `dist/`, downloaded once with npm and checked against its lock file.

    `@ohif/app` lists 40 runtime dependencies that its prebuilt `dist/` does not need, so we fetch the
    one tarball with `npm pack` and verify its integrity ourselves instead of `npm ci`.
    """
    lock = json.loads(lock_file.read_text())
    dist = CACHE / f"{lock['package'].lstrip('@').replace('/', '-')}-{lock['version']}" / "dist"
    if dist.is_dir():
        return dist
    with tempfile.TemporaryDirectory(dir=_cache_dir()) as tmp:
        spec = f"{lock['package']}@{lock['version']}"
        try:
            out = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", tmp],
                                 check=True, capture_output=True, text=True).stdout
        except FileNotFoundError as e:
            raise RuntimeError("npm is missing: apt-get install npm (needed to fetch the OHIF build)") from e
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"npm pack {spec} failed: {e.stderr.strip()[-500:]}") from e
        tarball = Path(tmp) / json.loads(out)[0]["filename"]
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if digest != lock["integrity"]:
            raise RuntimeError(f"{spec}: integrity {digest} does not match {lock_file.name}")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        dist.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / "package" / "dist"), dist)
    return dist


def _cache_dir() -> Path:
    CACHE.mkdir(exist_ok=True)
    return CACHE


SHARE_LINK_EXPIRED = "This link has expired. Ask whoever sent it for a new one."
"""What a share link's page says once the proxy refuses its token, past the token's expiry."""
SHARE_LINK_REVOKED = "This link was revoked, or is not a valid link. Ask whoever sent it for a new one."
"""What it says when the proxy refuses a token that has not expired: revoked (or forged)."""


def render_app_config(*, base_path: str, dicomweb_url: str | None = None, oidc: dict | None = None,
                      archive_kind: str = "dicomweb", share_links: bool = False) -> str:
    """OHIF's `app-config.js`: the packaged secure defaults, with our data source and base path.

    The data source is the DICOMweb archive at `dicomweb_url`, with the settings DATA_SOURCES gives its
    `archive_kind` (an archive behind the proxy, or a cloud DICOM service), or with None the `dicomjson` source, which
    opens the JSON manifest named by `/viewer/dicomjson?url=` (the dicom-json recipe).

    `oidc` (components.render.realm.oidc_settings) turns on login: OHIF then sends the
    user's token as `Authorization: Bearer` on every DICOMweb request.

    `share_links`: a page opened from a share link (SHARE_LINK_MODE) opens its one study with the link's token, with
    no login and no study list.

    Kept from OHIF's default: dicomlocal/dicomwebproxy and dynamic config off. Changed: the data source,
    and thumbnails rendered by the archive (`wadors`), because the default's `staticWado` flavour expects a
    static DICOMweb bucket.
    """
    config = {
        "routerBasename": base_path.rstrip("/") or "/",
        # The study list searches a DICOMweb archive; a manifest's studies are opened by their links.
        "showStudyList": dicomweb_url is not None,
        "extensions": [],
        "modes": [],
        "customizationService": {},
        "maxNumberOfWebWorkers": 3,
        "showWarningMessageForCrossOrigin": True,
        "showCPUFallbackMessage": True,
        "showLoadingIndicator": True,
        "strictZSpacingForVolumeViewport": True,
        "maxNumRequests": {"interaction": 100, "thumbnail": 75, "prefetch": 25},
        "showErrorDetails": "production",
        **(_dicomweb_source(dicomweb_url, archive_kind) if dicomweb_url is not None else _DICOM_JSON_SOURCE),
        **({"oidc": [oidc]} if oidc else {}),
    }
    return ("/** Rendered from the stack config by components/render/viewer_build.py; do not edit. */\n"
            f"window.config = {json.dumps(config, indent=2)};\n" + (SHARE_LINK_MODE if share_links else ""))


SHARE_LINK_MODE = """
// A share link (<viewer>/viewer?StudyInstanceUIDs=<uid>#token=<token>): the token rides in the URL's fragment, which
// no browser sends to a server, so no log holds it. OHIF reads `token` from the fragment too and sends it as the
// bearer. Its login would send the reader to a login page first, and they have no account: login is off on such a
// page. When the proxy refuses the token (401), the link has expired (its own `exp` says so) or was revoked, and the
// page says which.
if (/(^#|&)token=/.test(window.location.hash)) {
  // Read now: OHIF takes the token out of the address once it has it.
  var shareToken = window.location.hash.match(/(?:^#|&)token=([^&]+)/)[1];
  delete window.config.oidc;
  window.config.showStudyList = false;
  window.config.httpErrorHandler = function (error) {
    if (!error || error.status !== 401 || document.getElementById('ohif-share-ended')) return;
    var expired = false;
    try {
      var claims = JSON.parse(atob(shareToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      expired = claims.exp * 1000 <= Date.now();
    } catch (e) {}
    var notice = document.createElement('div');
    notice.id = 'ohif-share-ended';
    notice.setAttribute('role', 'alert');
    notice.style.cssText = 'position:fixed;inset:0;z-index:100000;display:flex;align-items:center;' +
      'justify-content:center;background:#000;color:#fff;font:20px sans-serif;padding:2em;text-align:center';
    notice.textContent = expired ? '""" + SHARE_LINK_EXPIRED + """' : '""" + SHARE_LINK_REVOKED + """';
    document.body.appendChild(notice);
  };
}
"""


_DICOM_JSON_SOURCE = {
    "defaultDataSourceName": "dicomjson",
    "dataSources": [{
        "namespace": "@ohif/extension-default.dataSourcesModule.dicomjson",
        "sourceName": "dicomjson",
        "configuration": {"friendlyName": "DICOM JSON manifest", "name": "json"},
    }],
}


def dicomweb_server(dicomweb_url: str) -> dict:
    """What OHIF v3 and v2 both say of a DICOMweb server behind our proxy: all three roots at our URL, and the
    archive's answers as DATA_SOURCES describes an Orthanc's."""
    shared = ("qidoSupportsIncludeField", "imageRendering", "thumbnailRendering", "enableStudyLazyLoad",
              "supportsFuzzyMatching")
    return {**_roots(dicomweb_url), **{key: DATA_SOURCES["dicomweb"][key] for key in shared}}


def _roots(dicomweb_url: str) -> dict:
    return {"wadoUriRoot": dicomweb_url, "qidoRoot": dicomweb_url, "wadoRoot": dicomweb_url}


def _dicomweb_source(dicomweb_url: str, archive_kind: str) -> dict:
    return {
        "defaultDataSourceName": "dicomweb",
        "dataSources": [{
            "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb",
            "sourceName": "dicomweb",
            "configuration": {
                "friendlyName": "DICOMweb archive",
                "name": "dicomweb",
                **_roots(dicomweb_url),
                **DATA_SOURCES[archive_kind],
            },
        }],
    }


def preload_hints() -> str:
    """`<link rel="preload">`s for what the viewer route always loads once the app bundle has run (PRELOAD_FILE):
    the browser fetches them while the bundle still downloads and runs, instead of in five waves of requests
    afterwards. Without `crossorigin`, as the bundle's chunk loader inserts its tags, so that the preloaded response
    is the one used. They come after the bundle's own tag."""
    listed = json.loads(PRELOAD_FILE.read_text())
    links = [f'<link rel="preload" as="script" href="/{name}">' for name in listed["scripts"]]
    links += [f'<link rel="preload" as="style" href="/{name}">' for name in listed["styles"]]
    return "".join(links)


def _with_preload_hints(html: str) -> str:
    if "</head>" not in html:
        raise ValueError("index.html has no </head> for the preload hints")
    return html.replace("</head>", preload_hints() + "</head>", 1)


def _rebase(key: str, text: str, base_path: str) -> str:
    """The build hard-codes `/` as its root in index.html, webpack's public path and CSS font URLs."""
    if key == "index.html":
        text = text.replace('window.PUBLIC_URL="/"', f'window.PUBLIC_URL="{base_path}"')
        return re.sub(r'(src|href|content)="/(?!/)', rf'\1="{base_path}', text)
    if key.endswith(".js"):
        return text.replace('__webpack_require__.p = "/"', f'__webpack_require__.p = "{base_path}"')
    if key.endswith(".css"):
        return re.sub(r"url\(/(?!/)", f"url({base_path}", text)
    return text


def prepare_site(dist: Path, out: Path, *, app_config: str | None, base_path: str,
                 include_source_maps: bool = False, preload: bool = True) -> list[SiteFile]:
    """Copy the build to `out`, configured for `base_path`; one SiteFile per file to serve, and its variants.

    `preload` puts preload_hints() in index.html; only the bench's reference, OHIF's own recipe, goes without.

    With `app_config` None, `app-config.js` is left out for the caller to publish: in the cloud it
    depends on URLs that exist only once the deployment runs.

    `out` is rewritten only where content changes, so a file's bytes (and hence its hash,
    which is all a bucket object depends on) are stable from run to run.
    """
    entries: list[tuple[str, Path]] = []
    wanted: set[Path] = set()
    for src in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = src.relative_to(dist).as_posix()
        if key in _NOT_SERVED or (key.endswith(".map") and not include_source_maps) or \
                (key == APP_CONFIG and app_config is None):
            continue
        dest = out / key
        if key == APP_CONFIG:
            data = app_config.encode()
        elif (key == "index.html" and preload) or (base_path != "/" and src.suffix in (".html", ".js", ".css")):
            text = src.read_text(encoding="utf-8")
            text = _with_preload_hints(text) if key == "index.html" and preload else text
            data = _rebase(key, text, base_path).encode()
        else:
            data = None
        if data is None:
            if not dest.exists() or dest.stat().st_size != src.stat().st_size or dest.read_bytes() != src.read_bytes():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
        elif not dest.exists() or dest.read_bytes() != data:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        wanted.add(dest)
        entries.append((key, dest))
    for stale in [p for p in out.rglob("*") if p.is_file() and p not in wanted]:
        stale.unlink()
    return stored_files(entries)
