"""Pack files over real HTTP (waitress on loopback): ranges, ETags and immutable caching,
as a phone's browser and an audio player see them."""

import json

import pytest
import requests

from content_packs.testing import make_pack

from classroom_server.services import packs
from tests.conftest import CSRF_RE, TEACHER_PASSWORD, start_waitress, stop_waitress


@pytest.fixture
def hub(app, school, data_dir, tmp_path):
    src = make_pack(tmp_path / "pack", skills=1, items_per_skill=2, pack_id="org.example.http",
                    media=("audio", "video"))
    packs.import_pack(data_dir, src)
    server, thread = start_waitress(app)
    base = f"http://127.0.0.1:{server.effective_port}"
    session = requests.Session()
    session.headers["Connection"] = "close"  # nothing left in flight when the server stops
    token = CSRF_RE.search(session.get(base + "/login/staff", timeout=10).text).group(1)
    session.post(base + "/login/staff", data={"csrf_token": token, "username": "tess", "password": TEACHER_PASSWORD},
                 timeout=10)
    yield base, session, json.loads((src / "pack.json").read_text())
    session.close()
    stop_waitress(server, thread)


@pytest.fixture
def served(hub):
    base, session, manifest = hub
    return base, session, next(r for r in manifest["resources"] if r["path"] == "media/bar.svg")


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


@pytest.mark.parametrize("kind, mime", [("audio", "audio/ogg"), ("video", "video/webm")])
def test_audio_and_video_answer_ranges_as_a_media_player_asks(hub, kind, mime):
    """A phone's player asks for the first bytes, then seeks: 206 with Content-Range each time."""
    base, session, manifest = hub
    found = next(r for r in manifest["resources"] if r["kind"] == kind)
    url = f"{base}/content/{found['sha256']}/{found['path'].rsplit('/', 1)[-1]}"
    whole = session.get(url, timeout=10)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == mime
    assert whole.headers["Accept-Ranges"] == "bytes" and len(whole.content) == found["size"]
    first = session.get(url, headers={"Range": "bytes=0-99"}, timeout=10)
    assert first.status_code == 206 and first.headers["Content-Type"] == mime
    assert first.headers["Content-Range"] == f"bytes 0-99/{found['size']}"
    assert first.content == whole.content[:100]
    rest = session.get(url, headers={"Range": "bytes=100-"}, timeout=10)
    assert rest.status_code == 206 and rest.headers["Content-Range"] == f"bytes 100-{found['size'] - 1}/{found['size']}"
    assert rest.content == whole.content[100:]
    tail = session.get(url, headers={"Range": "bytes=-10", "If-Range": whole.headers["ETag"]}, timeout=10)
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
