"""The console's routes: its files, public (the page asks for a token itself and sends it on
every API call), out of the OpenAPI document, and limited to the files the package ships."""

from __future__ import annotations

import functools
from pathlib import Path

from aiohttp import web

from pubsubgo.adapters.wire.access import Access
from pubsubgo.adapters.wire.api import RouteTable

#: Where the files live, inside the installed package (package-data in pyproject.toml).
STATIC_DIRECTORY = Path(__file__).with_name("static")
#: The page every console address opens (the pages are chosen by the URL's fragment).
INDEX = "index.html"
#: The content type of each kind of file the console ships.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
#: The page handles bearer tokens: it runs only its own scripts and styles, talks only to
#: this origin (HTTP and WebSocket), is never framed, and sends no referrer.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated on each load (the ETag makes that a 304), so an upgraded broker never
    # runs an old page against its new API.
    "Cache-Control": "no-cache",
}

routes = RouteTable(tag="console", always=(), documented=False)


@functools.cache
def shipped_files() -> dict[str, Path]:
    """File name -> path of every file the console ships (a flat directory), read once."""
    return {
        path.name: path
        for path in STATIC_DIRECTORY.iterdir()
        if path.is_file() and path.suffix in CONTENT_TYPES
    }


@routes.route(
    "GET", "/console", summary="The web console (redirects to /console/)", access=Access.open(),
    responses={308: None},
)  # fmt: skip
async def console_root(request: web.Request) -> web.Response:
    # Relative, so that the console also works behind a proxy that adds a path prefix.
    raise web.HTTPPermanentRedirect("console/")


@routes.route(
    "GET", "/console/", summary="The web console's page", access=Access.open(),
    responses={200: None},
)  # fmt: skip
async def console_index(request: web.Request) -> web.FileResponse:
    return _file(INDEX)


@routes.route(
    "GET", "/console/{file}", summary="A file of the web console", access=Access.open(),
    responses={200: None}, errors=(404,),
)  # fmt: skip
async def console_file(request: web.Request) -> web.FileResponse:
    return _file(request.match_info["file"])


def _file(name: str) -> web.FileResponse:
    """The shipped file ``name``; nothing else on disk can be named.

    Raises:
        aiohttp.web.HTTPNotFound: the console ships no such file (the error middleware
            answers with the JSON error shape).
    """
    path = shipped_files().get(name)
    if path is None:
        raise web.HTTPNotFound(text=f"the console has no file {name!r}")
    headers = {**SECURITY_HEADERS, "Content-Type": CONTENT_TYPES[path.suffix]}
    return web.FileResponse(path, headers=headers)
