"""The embedded recipe's demo host: a web application of another origin that pastes the recipe's snippets.

    /                      links to the pages below
    /iframe.html           the iframe snippet in a plain page
    /iframe-isolated.html  the same, in a cross-origin isolated page (the headers host_page_headers names)
    <host_page_path>       the script snippet; deep links under it get the same page, as the v2 router needs

The pages hold the recipe's outputs unchanged, so what works here is what a user pastes.
"""

from __future__ import annotations

import html
from pathlib import Path

from components.render.embed import HOST_ISOLATION_HEADERS

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin: 0; font-family: sans-serif">
<h1 style="font-size: 1rem; margin: 0.5rem">{title}</h1>
{body}
</body>
</html>
"""
ISOLATED_PAGE = "iframe-isolated.html"


def write_host_pages(root: Path, *, iframe_snippet: str | None, script_snippet: str | None,
                     host_page_path: str) -> None:
    pages = {}
    if iframe_snippet:
        pages["iframe.html"] = ("Host application: the viewer in an iframe", iframe_snippet)
        pages[ISOLATED_PAGE] = ("Host application (cross-origin isolated): the viewer in an iframe", iframe_snippet)
    if script_snippet:
        pages[host_page_path.lstrip("/") + "index.html"] = ("Host application: the viewer's script", script_snippet)
    links = "".join(f'<li><a href="/{html.escape(k.removesuffix("index.html"))}">{html.escape(t)}</a></li>\n'
                    for k, (t, _) in pages.items())
    # With the script page at /, the script page is the index.
    pages.setdefault("index.html", ("Host application (sandbox demo)", f"<ul>\n{links}</ul>"))
    for key, (title, body) in pages.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_PAGE.format(title=html.escape(title), body=body))


def render_host_conf(*, listen: str, root: Path, host_page_path: str) -> str:
    isolation = "".join(f'        add_header {k} "{v}" always;\n' for k, v in HOST_ISOLATION_HEADERS.items())
    # With the script page at /, its location serves the rest too.
    rest = "" if host_page_path == "/" else "\n    location / {\n    }"
    return f"""\
# The demo host application of the embedded recipe. Rendered by sandbox/host_page.py.
server {{
    listen {listen};
    server_name _;
    root {root};
    charset utf-8;
    location = /{ISOLATED_PAGE} {{
{isolation}    }}
    location {host_page_path} {{
        try_files $uri {host_page_path}index.html;
    }}{rest}
}}
"""
