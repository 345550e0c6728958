"""Security headers on every response, error pages included.

Pages load scripts, styles and pictures from the hub only: no inline script, no ``on...=``
attribute, no inline style (tests/test_security_headers.py scans the templates), so the
Content-Security-Policy needs no ``'unsafe-inline'``. ``data:`` pictures are allowed for pictures
drawn by the browser or a stylesheet. A response that sets its own policy keeps it: pack files
(web/content.py) get a stricter one, since they are data and must never run anything.
"""

from __future__ import annotations

from flask import Flask, Response

PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
))
HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
