"""Security headers (issue #20, finding 13): every response carries a Content-Security-Policy
without 'unsafe-inline', X-Frame-Options, X-Content-Type-Options and Referrer-Policy; error
pages too. Pack files get a stricter policy of their own. Templates hold no inline script, no
``on...=`` handler, no ``javascript:`` address and no inline style, so the policy can stay strict."""

import re
from pathlib import Path

import pytest

from content_packs.testing import make_pack

from classroom_server.services import packs
from classroom_server.web.headers import HEADERS, PAGE_POLICY
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff
from tests.test_errors import BROWSER, CASES, JSON, _provoke
from tests.test_permissions import ADMIN_ROUTES, LEARNER_ROUTES, TEACHER_ROUTES, _fill

TEMPLATES = Path(__file__).resolve().parents[1] / "classroom_server" / "templates"
PACK = "org.example.headers"
ROLES = ("anonymous", "learner", "teacher", "admin")


def assert_secured(response, what: str) -> None:
    for name, value in HEADERS.items():
        if name == "Content-Security-Policy" and what.startswith("/content/"):
            continue
        assert response.headers.get(name) == value, f"{what} ({response.status_code}): {name}"
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[-1].split(";")[0], what
    assert "unsafe-eval" not in policy, what


def test_the_page_policy_allows_nothing_inline():
    directives = dict(d.strip().split(" ", 1) for d in PAGE_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in PAGE_POLICY


@pytest.fixture
def hub(app, school, data_dir, tmp_path):
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=2, items_per_skill=3, pack_id=PACK))
    return app


def _route_values(app, school) -> dict[str, str]:
    loaded = app.extensions["catalogue"].get()
    pack = loaded.catalogue.pack(PACK)
    sha = next(iter(loaded.files))
    return {
        "class_id": str(school.classes["pictures"].id), "learner_id": str(school.learners["ana"].id),
        "person_id": str(school.teachers["tess"].id), "pack_id": PACK, "item_id": pack.items[0].id, "skill_id": pack.items[0].skill,
        "resource_id": pack.resources[0].id if pack.resources else "none", "sha": sha,
        "name": loaded.files[sha].path.name, "filename": "app.css",
    }


def every_get_path(app, school) -> list[str]:
    """Each GET route of the app with its arguments filled in (a route with an argument nobody
    knows fails here, so a new route is never left out), and the access matrix's routes."""
    values = _route_values(app, school)
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        missing = set(rule.arguments) - set(values)
        assert not missing, f"{rule.rule}: give test_security_headers a value for {missing}"
        paths.append(re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule))
    return sorted(set(paths) | {_fill(p, school) for p in TEACHER_ROUTES + ADMIN_ROUTES + LEARNER_ROUTES})


def _signed_in(client, school, role):
    if role == "learner":
        sign_in_learner(client, school, "ana")
    elif role == "teacher":
        sign_in_staff(client, "tess", TEACHER_PASSWORD)
    elif role == "admin":
        sign_in_staff(client, "admin", ADMIN_PASSWORD)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_get_route_carries_the_headers_for_every_role(hub, client, school, role):
    _signed_in(client, school, role)
    statuses = set()
    for path in every_get_path(hub, school):
        response = client.get(path)
        response.close()  # a file sent (static, pack file) is closed with its response
        statuses.add(response.status_code)
        assert_secured(response, path)
    assert 200 in statuses


def test_pack_files_get_a_stricter_policy_that_runs_nothing(hub, client, school):
    _signed_in(client, school, "learner")
    loaded = hub.extensions["catalogue"].get()
    for sha, entry in loaded.files.items():
        response = client.get(f"/content/{sha}/{entry.path.name}")
        response.close()
        policy = response.headers["Content-Security-Policy"]
        assert response.status_code == 200
        assert "default-src 'none'" in policy and "script-src" not in policy and "frame-ancestors 'none'" in policy
        assert ("sandbox" in policy) != entry.mime.startswith("application/pdf"), entry.mime
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("headers", [BROWSER, JSON], ids=["page", "json"])
@pytest.mark.parametrize("name", CASES)
def test_error_responses_carry_the_headers(name, headers, app, client, school, monkeypatch):
    case, response = _provoke(name, app, client, headers, monkeypatch)
    assert response.status_code == case.status
    assert_secured(response, name)


def test_an_unexpected_error_carries_the_headers(app, client):
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    app.add_url_rule("/test/boom", "test_boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as on a real hub: a 500 page, not the exception
    response = client.get("/test/boom")
    assert response.status_code == 500
    assert_secured(response, "500")


def test_an_odd_id_is_a_404_with_the_headers(client, school):
    response = client.get("/login/learner/1/99999999999999999999")
    assert response.status_code == 404
    assert_secured(response, "404")
    assert_secured(client.post("/login/staff", data={"username": "tess"}), "400 csrf")
    assert_secured(post(client, "/login/learner/1/99999999999999999999", {"pin": "1234"}), "404 post")


# --- templates: nothing inline ---

INLINE = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I),
    "on...= handler": re.compile(r"""[\s"'/]on[a-z]+\s*=""", re.I),
    "javascript: URL": re.compile(r"javascript\s*:", re.I),
    "style attribute": re.compile(r"""[\s"']style\s*=""", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
}


def inline_problems(text: str) -> list[str]:
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)  # Jinja comments are never sent
    return [what for what, pattern in INLINE.items() if pattern.search(text)]


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_hold_no_inline_script_handler_or_style(path):
    assert inline_problems(path.read_text(encoding="utf-8")) == [], path


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>", "<SCRIPT type=module>x()</SCRIPT>", '<button onclick="go()">',
    "<body onload='x()'>", '<a href="javascript:void(0)">', '<div style="width: 40%">', "<style>p{}</style>",
    '<img src=x onerror=alert(1)>', '<svg/onload=alert(1)>',
])
def test_the_template_scan_catches_each_inline_form(source):
    assert inline_problems(source)


@pytest.mark.parametrize("source", [
    '<script src="{{ asset(\'practice.js\') }}"></script>', '<p class="note">Only one</p>',
    '<a href="/learn/" data-online="1">', "{# onclick= in a comment #}",
])
def test_the_template_scan_passes_what_is_allowed(source):
    assert inline_problems(source) == []
