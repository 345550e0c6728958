"""Pack files over real HTTP (waitress on loopback): ranges, ETags and immutable caching,
as a phone's browser and an audio player see them."""

import json

import pytest
import requests

from content_packs.testing import make_pack

from classroom_server.services import packs
from tests.conftest import CSRF_RE, TEACHER_PASSWORD, start_waitress, stop_waitress


@pytest.fixture
def served(app, school, data_dir, tmp_path):
    src = make_pack(tmp_path / "pack", skills=1, items_per_skill=2, pack_id="org.example.http")
    packs.import_pack(data_dir, src)
    server, thread = start_waitress(app)
    base = f"http://127.0.0.1:{server.effective_port}"
    session = requests.Session()
    session.headers["Connection"] = "close"  # nothing left in flight when the server stops
    token = CSRF_RE.search(session.get(base + "/login/staff", timeout=10).text).group(1)
    session.post(base + "/login/staff", data={"csrf_token": token, "username": "tess", "password": TEACHER_PASSWORD},
                 timeout=10)
    manifest = json.loads((src / "pack.json").read_text())
    svg = next(r for r in manifest["resources"] if r["path"].endswith(".svg"))
    yield base, session, svg
    session.close()
    stop_waitress(server, thread)


def test_a_range_request_gets_206_with_exactly_those_bytes(served):
    base, session, svg = served
    url = f"{base}/content/{svg['sha256']}/bar.svg"
    whole = session.get(url, timeout=10)
    part = session.get(url, headers={"Range": "bytes=5-14"}, timeout=10)
    assert whole.status_code == 200 and len(whole.content) == svg["size"]
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 5-14/{svg['size']}"
    assert part.content == whole.content[5:15]
    assert whole.headers["Accept-Ranges"] == "bytes"


def test_an_unsatisfiable_range_is_416(served):
    base, session, svg = served
    response = session.get(f"{base}/content/{svg['sha256']}/bar.svg",
                           headers={"Range": f"bytes={svg['size'] + 10}-"}, timeout=10)
    assert response.status_code == 416


def test_etag_and_immutable_caching_over_http(served):
    base, session, svg = served
    url = f"{base}/content/{svg['sha256']}/bar.svg"
    first = session.get(url, timeout=10)
    assert "immutable" in first.headers["Cache-Control"] and "max-age=31536000" in first.headers["Cache-Control"]
    assert first.headers["Content-Type"].startswith("image/svg+xml")
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    again = session.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
