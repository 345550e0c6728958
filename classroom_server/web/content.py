"""Pack files under content-addressed URLs: /content/<sha256>/<file name>.

The address is the file's checksum, so a response never changes: browsers and the offline
shell may cache it forever, and a file shared by two pack versions keeps its cached copy across
an upgrade. Range requests (audio, video seeking) and ETags come from Werkzeug's send_file.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, send_file

from classroom_server.errors import NotFound
from classroom_server.web.access import requires

bp = Blueprint("content", __name__, url_prefix="/content")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
ONE_YEAR = 365 * 24 * 3600
FILE_POLICY = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; media-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@bp.route("/<sha>/<path:name>")
@requires("learner", "teacher", "admin")
def pack_file(sha: str, name: str) -> Response:
    loaded = current_app.extensions["catalogue"].get()
    entry = loaded.files.get(sha) if SHA_RE.match(sha) else None
    if entry is None or not entry.path.is_file():
        raise NotFound("There is no such file.")
    response = send_file(entry.path, mimetype=entry.mime, etag=sha, conditional=True, max_age=ONE_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A pack file is data: an SVG or HTML file opened on its own must not run anything, whatever
    # a pack author put in it. The sandbox (no scripts, no forms, an origin of its own) is left
    # off PDFs only: browsers refuse to show a PDF in a sandbox.
    policy = FILE_POLICY if entry.mime.startswith("application/pdf") else f"{FILE_POLICY}; sandbox"
    response.headers["Content-Security-Policy"] = policy
    return response


def url_for_file(pack_id: str, path: str) -> str | None:
    """The content URL of a pack file, or None when the pack does not list it."""
    loaded = current_app.extensions["catalogue"].get()
    sha = loaded.sha_for(pack_id, path)
    if sha is None:
        return None
    return f"/content/{sha}/{path.rsplit('/', 1)[-1]}"
