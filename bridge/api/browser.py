"""stac-browser at ``/browser/``: the static build (``make browser``) plus a runtime config
that points it at this bridge and lets it send an API key.

The build is made once at install time from the npm registry (``scripts/build-stac-browser.sh``)
with ``pathPrefix=/browser/`` and a ``<script src="/browser/config.js">`` tag; the config is
made here, per request, so the same build works on any host and port. Without a build (no
Node.js at install time) every ``/browser/`` URL answers a page that says how to get one.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bridge.api.links import base_url
from bridge.settings import Settings

PREFIX = "/browser"
KEY_HEADER = "X-API-Key"

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stac-browser is not built</title></head>
<body style="font-family: sans-serif; max-width: 42em; margin: 3em auto; line-height: 1.5">
<h1>stac-browser is not built</h1>
<p>This bridge serves <a href="https://github.com/radiantearth/stac-browser">stac-browser</a>
at <code>/browser/</code>, but no build was found in <code>{where}</code>.</p>
<p>It is built from the npm registry when the project is installed, if Node.js (18 or newer)
and npm are present. To enable it:</p>
<ol>
<li>install Node.js and npm (Debian: <code>apt-get install nodejs npm</code>);</li>
<li>run <code>make browser</code> (or <code>make install</code>) in the bridge's checkout;</li>
<li>restart the bridge (<code>make run</code>).</li>
</ol>
<p>The STAC API itself works without it: <a href="{root}">{root}</a>.</p>
</body></html>
"""


def browser_config(root: str, title: str) -> dict[str, object]:
    """stac-browser's runtime options: this bridge's root, and an API key sent as a header.

    The key is typed by the user into stac-browser's own dialog; it is never in this file.
    """
    return {
        "catalogUrl": root,
        "catalogTitle": title,
        "allowExternalAccess": False,
        # The landing page's child links and /collections name the same collections; the
        # latter are typed (shown as collections, not catalogs).
        "apiCatalogPriority": "collections",
        "historyMode": "hash",
        "pathPrefix": f"{PREFIX}/",
        "authConfig": {
            "type": "apiKey",
            "in": "header",
            "name": KEY_HEADER,
            "description": (
                "Your bridge API key: `bridge keys create --tenant NAME` prints one. "
                "Searching needs no key unless the operator closed it; quotes, orders and "
                "downloads do. In sandbox mode, `make run` prints the demo key."
            ),
        },
        "displayGeoTiffByDefault": False,
        "useTileLayerAsFallback": False,
    }


def is_built(settings: Settings) -> bool:
    """Whether ``settings.browser_dir`` holds a stac-browser build."""
    return (settings.browser_dir / "index.html").is_file()


def add_browser_routes(app: FastAPI, settings: Settings) -> None:
    """Serve the stac-browser build at ``/browser/``, or the page that says how to build it."""
    dist = settings.browser_dir
    built = is_built(settings)

    async def to_slash(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    app.add_api_route(PREFIX, to_slash, methods=["GET", "HEAD"], include_in_schema=False)
    if not built:

        async def not_built(request: Request, path: str = "") -> HTMLResponse:
            root = base_url(request, settings.public_url)
            page = NOT_BUILT.format(where=escape(str(dist)), root=escape(root))
            return HTMLResponse(page, status_code=503, headers={"Retry-After": "3600"})

        app.add_api_route(
            f"{PREFIX}/{{path:path}}", not_built, methods=["GET", "HEAD"], include_in_schema=False
        )
        return

    async def config_js(request: Request) -> Response:
        root = base_url(request, settings.public_url)
        config = orjson.dumps(browser_config(root, settings.title)).decode()
        return Response(
            f"window.STAC_BROWSER_CONFIG = {config};\n",
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache"},
        )

    # Registered before the mount: the build's own (empty) config.js is never served.
    app.add_api_route(
        f"{PREFIX}/config.js", config_js, methods=["GET", "HEAD"], include_in_schema=False
    )
    app.mount(PREFIX, StaticFiles(directory=Path(dist), html=True), name="browser")
