"""Every route that names a class or a learner, probed with other people's ids: a teacher with
another teacher's class, with another class's learner, with a learner of their own class under
another class's id; by GET and by POST with a valid CSRF token. Nothing is shown or changed
(403, 404 or 405). Routes added later are probed by the same loop, since it reads the URL map."""

import re

import pytest

from classroom_server.db import db
from classroom_server.models import Event, Person
from tests.conftest import CSRF_RE, TEACHER_PASSWORD, sign_in_learner, sign_in_staff

REFUSED = {403, 404, 405}


def _routes(app, *names):
    return [r for r in app.url_map.iter_rules() if set(names) <= set(r.arguments)]


OTHER_VALUES = {"pack_id": "org.example.any", "resource_id": "any", "item_id": "any", "skill_id": "any"}


def _fill(rule, **values):
    values = {**OTHER_VALUES, **values}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _probe(client, app, rule, path):
    token = CSRF_RE.search(client.get("/login/staff").get_data(as_text=True)).group(1)
    outcomes = {}
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        data = {"csrf_token": token, "display_name": "Hacked", "avatar": "red"} if method == "POST" else None
        outcomes[method] = client.open(path, method=method, data=data).status_code
    return outcomes


def _nothing_changed(school):
    with db.connection_context():
        return (Event.select().where(Event.actor_uid == school.teachers["tom"].uid).count(),
                {p.id: p.display_name for p in Person.select()})


@pytest.mark.parametrize("case", ["others_class", "others_learner_in_own_class", "own_learner_under_others_class"])
def test_a_teacher_probing_other_peoples_ids_is_refused_everywhere(app, school, case):
    tom = app.test_client()
    sign_in_staff(tom, "tom", TEACHER_PASSWORD)  # Tom teaches the PIN class; Tess the picture class
    values = {
        "others_class": dict(class_id=school.classes["pictures"].id, learner_id=school.learners["ana"].id),
        "others_learner_in_own_class": dict(class_id=school.classes["pins"].id, learner_id=school.learners["ana"].id),
        "own_learner_under_others_class": dict(class_id=school.classes["pictures"].id, learner_id=school.learners["cleo"].id),
    }[case]
    before = _nothing_changed(school)
    rules = _routes(app, "class_id")
    assert len(rules) >= 10
    for rule in rules:
        if "learner_id" not in rule.arguments and case != "others_class":
            continue
        if rule.endpoint.startswith("auth.learner"):
            continue  # the sign-in pages are open to everyone by design; they show only a class's names
        path = _fill(rule, **values)
        outcomes = _probe(tom, app, rule, path)
        assert set(outcomes.values()) <= REFUSED, (rule.rule, path, outcomes)
    assert _nothing_changed(school) == before


def test_a_learner_probing_staff_routes_with_ids_is_refused(app, school):
    ana = app.test_client()
    sign_in_learner(ana, school, "ana")
    for rule in _routes(app, "class_id"):
        if rule.endpoint.startswith("auth.learner"):
            continue
        path = _fill(rule, class_id=school.classes["pictures"].id, learner_id=school.learners["ben"].id)
        outcomes = _probe(ana, app, rule, path)
        assert set(outcomes.values()) <= REFUSED, (rule.rule, outcomes)


def test_signing_in_as_a_learner_of_another_class_is_refused(app, school):
    client = app.test_client()
    path = f"/login/learner/{school.classes['pins'].id}/{school.learners['ana'].id}"
    assert client.get(path).status_code == 404
