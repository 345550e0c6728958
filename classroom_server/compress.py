"""Gzip for pages, styles, scripts and JSON: classroom Wi-Fi is slow and shared.

Pack files under /content are left as they are (media is already compressed, and Range
requests must see the original bytes).
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = ("text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                "image/svg+xml")
MIN_SIZE = 600


def init_app(app: Flask) -> None:
    @app.after_request
    def _gzip(response: Response) -> Response:
        if (
            response.status_code != 200
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or response.headers.get("Content-Encoding")
            or request.path.startswith("/content/")
            or response.mimetype not in COMPRESSIBLE
        ):
            return response
        response.direct_passthrough = False
        data = response.get_data()
        if len(data) < MIN_SIZE:
            return response
        response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(response.get_data()))
        response.vary.add("Accept-Encoding")
        return response
