"""The session cookie goes back to the browser only when the session changed, and a background
request never sends back an older one.

The browser keeps the next items ready, and the service worker keeps the offline page, with
requests of their own. Such a request starts with the cookie of its time; if its response
re-sent that cookie after the learner opened a lesson meanwhile, the note "continue where I
stopped" in the newer cookie would be lost (it was, now and then, in the browser journeys)."""

import re

from content_packs.testing import make_pack

from classroom_server.services import packs
from tests.conftest import sign_in_learner, study


def _set_cookie(response):
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("classroom_session=")]


def test_background_requests_leave_the_session_cookie_alone(app, client, school, data_dir, tmp_path):
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=1, items_per_skill=3, pack_id="org.example.c"))
    study(school)
    sign_in_learner(client, school, "ana")
    home = client.get("/learn/").get_data(as_text=True)
    item_url = re.search(r'href="(/learn/item/[^"]+)"', home).group(1).replace("&amp;", "&")
    client.get("/learn/")  # a page that leaves the session as it was sends no cookie either (below)
    for headers in ({"X-Prefetch": "1"}, {"Sec-Purpose": "prefetch"}):
        assert _set_cookie(client.get(item_url, headers=headers)) == [], headers
        assert _set_cookie(client.get("/learn/offline", headers=headers)) == [], headers
    opened = client.get(item_url)
    assert _set_cookie(opened), "opening an item notes it in the session"
    home = client.get("/learn/").get_data(as_text=True)
    assert "Continue where I stopped" in home


def test_the_cookie_is_set_at_sign_in_and_not_again_on_each_page(client, school):
    """It was signed again on every response (a HMAC and a Set-Cookie header each, 304s
    included), only to push its expiry past the server's own: a sign-in lasts session_hours from
    when it began (services/sessions.py)."""
    signed_in = sign_in_learner(client, school, "ana")
    assert _set_cookie(signed_in)  # the sign-in sets it, with its expiry
    client.get("/learn/")  # the first page keeps the form token in the session: a change
    for path in ("/learn/", "/learn/skills", "/learn/"):
        response = client.get(path)
        assert response.status_code == 200
        assert _set_cookie(response) == [], path
    assert _set_cookie(client.get("/learn/?lang=es"))  # the session changes: the cookie is signed again
