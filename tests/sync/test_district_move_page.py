"""District staff move a learner to another school from the dashboard: a form on the learner's
page (the district's staff only), a page that says what will happen, and the move, which the
service makes all or nothing (tests/sync/test_move_school.py follows it through the hubs). A
school's staff get 403; a stale or bad request is explained and changes nothing; a POST needs
its CSRF token. On SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from classroom_server.db import db
from classroom_server.services import sync as hub_sync
from sync.district import projections, service
from sync.district.models import Change, Learner, LearnerMove
from tests.sync.test_dashboard import _post, _signed_in
from tests.sync.test_move_school import OTHER, two_schools  # noqa: F401 (the fixture, for this module)
from tests.sync.test_two_hubs import SCHOOL, use


def _text(response) -> str:  # type: ignore[no-untyped-def]
    """The page's words as a reader sees them: tags out, entities read, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _options(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    page = response.get_data(as_text=True)
    return [(html.unescape(v), html.unescape(w)) for v, w in re.findall(r'<option value="([^"]*)">([^<]*)</option>',
                                                                       page)]


@pytest.fixture
def hillside(two_schools, district, school) -> dict[str, Any]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Hillside's hub synced and its figures computed, so its learners have pages: Amara (s-1)
    in class 4A from the district's roster, and Ana, whom the hub made itself."""
    _, _, folder_a, _, transport = two_schools
    use(folder_a)
    with db.connection_context():
        hub_sync.run(transport)
    with district.extensions["district_database"].connection_context():
        registration = next(h for h in service.hubs() if h.name == folder_a.name)
        assert projections.recompute(registration).problem is None
        ids = {"hillside": int(service.school_named(SCHOOL).id), "riverside": int(service.school_named(OTHER).id)}
    base = f"/dashboard/hubs/{registration.id}/classes"
    return {**ids, "amara": f"{base}/c-4a/learners/s-1",
            "ana": f"{base}/{school.classes['pictures'].uid}/learners/{school.learners['ana'].uid}"}


def _state(district) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Amara's school, the moves made and the changes published: what a refused move must not touch."""
    with district.extensions["district_database"].connection_context():
        return int(Learner.get_by_id("s-1").school), LearnerMove.select().count(), Change.select().count()


def test_the_form_is_for_the_districts_staff_and_offers_every_other_school_and_its_classes(district, hillside):
    dana = _signed_in(district, "dana")
    page = dana.get(hillside["amara"])
    assert page.status_code == 200
    assert "Move to another school" in _text(page) and "Amara Diallo is at Hillside Primary." in _text(page)
    riverside = hillside["riverside"]
    assert _options(page) == [(f"{riverside}", OTHER), (f"{riverside}:c-5b", f"{OTHER} — Class 5B")]
    assert f'action="{hillside["amara"]}/move"' in page.get_data(as_text=True)

    hana = _signed_in(district, "hana", SCHOOL)
    own = hana.get(hillside["amara"])
    assert own.status_code == 200 and "Move to another school" not in _text(own) and not _options(own)
    before = _state(district)
    asked = hana.get(f"{hillside['amara']}/move?to={riverside}")
    assert asked.status_code == 403 and "Only the district's staff can do this." in _text(asked)
    refused = _post(hana, f"{hillside['amara']}/move", {"to": f"{riverside}:c-5b"})
    assert refused.status_code == 403
    assert _state(district) == before


def test_the_confirmation_says_who_goes_where_and_the_move_is_made_and_said(district, hillside):
    dana = _signed_in(district, "dana")
    riverside = hillside["riverside"]
    before = _state(district)
    page = dana.get(f"{hillside['amara']}/move?to={riverside}:c-5b")
    words = _text(page)
    assert page.status_code == 200
    assert "Move Amara Diallo to Riverside School?" in words
    assert ("Amara Diallo leaves Hillside Primary: its hubs archive them at their next sync (what they recorded "
            "before is kept).") in words
    assert ("Amara Diallo joins Riverside School in Class 5B, with their whole history: their progress goes on "
            "where it was.") in words
    assert "You can move them back the same way." in words
    assert f'<a href="{hillside["amara"]}">Cancel</a>' in page.get_data(as_text=True)
    assert _state(district) == before, "reading the page changes nothing"

    done = _post(dana, f"{hillside['amara']}/move", {"to": f"{riverside}:c-5b"})
    assert done.status_code == 302 and done.headers["Location"] == hillside["amara"]
    database = district.extensions["district_database"]
    with database.connection_context():
        there, here = service.school_named(OTHER), service.school_named(SCHOOL)
        assert int(Learner.get_by_id("s-1").school) == riverside
        assert service.current(there, "user", "s-1")["status"] == "active"
        assert service.current(there, "enrollment", "s-1@c-5b")["classSourcedId"] == "c-5b"
        assert service.current(here, "user", "s-1")["status"] == "tobedeleted"
        assert [m.moved_by for m in LearnerMove.select()] == ["dana"]
    after = dana.get(hillside["amara"])
    assert ("Moved Amara Diallo to Riverside School, in Class 5B. Both schools' hubs apply it at their next "
            "sync.") in _text(after)
    # Until Hillside's hub syncs, the page is still there: it says where Amara is and can move them back.
    assert "Amara Diallo is at Riverside School." in _text(after)
    assert (str(hillside["hillside"]), SCHOOL) in _options(after) and (str(riverside), OTHER) not in _options(after)

    back = _post(dana, f"{hillside['amara']}/move", {"to": str(hillside["hillside"])})
    assert back.status_code == 302
    assert "Moved Amara Diallo to Hillside Primary. Both schools' hubs apply it" in _text(dana.get(back.headers[
        "Location"]))
    with database.connection_context():
        assert int(Learner.get_by_id("s-1").school) == hillside["hillside"]
        assert service.current(service.school_named(SCHOOL), "user", "s-1")["status"] == "active"
        assert LearnerMove.select().count() == 2


def test_a_learner_made_on_a_hub_is_moved_and_its_teachers_are_to_archive_them(district, hillside):
    dana = _signed_in(district, "dana")
    page = dana.get(f"{hillside['ana']}/move?to={hillside['riverside']}")
    assert page.status_code == 200
    assert ("Ana leaves Hillside Primary. They were added on one of its hubs, not by the district: ask that hub's "
            "teachers to archive them there") in _text(page)
    assert "Ana joins Riverside School, with their whole history" in _text(page)
    done = _post(dana, f"{hillside['ana']}/move", {"to": str(hillside["riverside"])})
    assert done.status_code == 302
    words = _text(dana.get(done.headers["Location"]))
    assert "Moved Ana to Riverside School." in words
    assert "Ana was added on a hub of Hillside Primary, not by the district: ask that hub's teachers" in words


def test_a_bad_or_stale_request_is_explained_and_changes_nothing(district, hillside):
    dana = _signed_in(district, "dana")
    move = f"{hillside['amara']}/move"
    riverside = hillside["riverside"]
    before = _state(district)
    refusals = [
        (str(hillside["hillside"]), 400, "Amara Diallo is at Hillside Primary already."),
        (f"{riverside}:c-4a", 400, "Riverside School has no class c-4a on the district's roster."),  # Hillside's
        (f"{riverside}:c-nope", 400, "Riverside School has no class c-nope on the district's roster."),
        ("999", 400, "There is no such school."),
        ("99999999999999999999", 400, "There is no such school."),
        ("Riverside School", 400, "There is no such school."),
        ("", 400, "Choose the school Amara Diallo joins."),
    ]
    for to, status, words in refusals:
        for answer in (dana.get(move, query_string={"to": to}), _post(dana, move, {"to": to})):
            assert answer.status_code == status, to
            assert words in _text(answer), to
            assert 'name="to"' not in answer.get_data(as_text=True), "no button for a move that cannot be made"
    nobody = dana.get(move.replace("/s-1/", "/nobody/"), query_string={"to": str(riverside)})
    assert nobody.status_code == 404 and "The district knows no learner with the id nobody" in _text(nobody)
    for path in (move.replace("/c-4a/", "/c-none/"), re.sub(r"/hubs/\d+/", "/hubs/99999999999/", move)):
        assert dana.get(path, query_string={"to": str(riverside)}).status_code == 404, path
    assert _state(district) == before


def test_a_move_made_meanwhile_is_said_on_the_page_and_not_made_twice(district, hillside, monkeypatch):
    """The page was read; before its button was pressed, someone else moved Amara (another tab,
    the command): the service refuses, and the page says why."""
    dana = _signed_in(district, "dana")
    riverside = hillside["riverside"]
    real = service.move_learner

    def someone_first(uid: str, to: Any, **asked: Any) -> service.Moved:
        real(uid, to, by="command line")
        return real(uid, to, **asked)

    monkeypatch.setattr(service, "move_learner", someone_first)
    answer = _post(dana, f"{hillside['amara']}/move", {"to": f"{riverside}"})
    assert answer.status_code == 400
    assert "Nothing was moved: user 's-1': this learner is at Riverside School already." in _text(answer)
    assert 'name="to"' not in answer.get_data(as_text=True)
    with district.extensions["district_database"].connection_context():
        assert [m.moved_by for m in LearnerMove.select()] == ["command line"]


def test_a_move_without_its_csrf_token_is_refused(district, hillside):
    dana = _signed_in(district, "dana")
    before = _state(district)
    answer = dana.post(f"{hillside['amara']}/move", data={"to": str(hillside["riverside"])})
    assert answer.status_code == 400 and "This form has expired" in _text(answer)
    forged = dana.post(f"{hillside['amara']}/move", data={"to": str(hillside["riverside"]), "csrf_token": "forged"})
    assert forged.status_code == 400
    assert _state(district) == before
