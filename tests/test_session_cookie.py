"""The session cookie is signed when a sign-in begins or the session changes, not again on every
answer (it cost a HMAC and a Set-Cookie header per response, 304s included)."""

from __future__ import annotations

from tests.conftest import sign_in_learner


def _session_cookies(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("classroom_session=")]


def test_the_cookie_is_set_at_sign_in_and_not_again_on_each_page(client, school):
    signed_in = sign_in_learner(client, school, "ana")
    assert _session_cookies(signed_in)  # the sign-in sets it, with its expiry
    client.get("/learn/")  # the first page keeps the form token in the session: a change
    for path in ("/learn/", "/learn/skills", "/learn/"):
        response = client.get(path)
        assert response.status_code == 200
        assert _session_cookies(response) == [], path
    switched = client.get("/learn/?lang=es")  # the session changes: the cookie is signed again
    assert _session_cookies(switched)
