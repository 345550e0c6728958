"""What a learner's requests cost the database, counted (#21): statements, transactions, connections.

Every request a class makes by the thousand (signing in, My path, an item page, an answer with
its feedback page) is counted here, through SQLite's own trace of what it runs. A change that adds
a query, a second transaction or a connection opened per request fails here, whatever it costs on
this machine: on a Raspberry Pi each statement costs ten times more, and each commit is an fsync
on an SD card. The limits are today's counts; lower them when a request gets cheaper.
"""

import re

import pytest
from content_packs.testing import make_pack

from classroom_server import db as database
from classroom_server.db import db
from classroom_server.services import packs
from tests.conftest import sign_in_learner, study
from tests.test_practice import _answer_form, _first_item_url, _item_page

PACK = "org.example.hotpaths"

# request: (statements, commits) at most, once the hub is warm
LIMITS = {
    # three requests (two picture taps, then the third); the try is counted before the pictures
    # are checked and taken back after, then the sign-in event with the device trusted, then the
    # session (it was seven commits, #21)
    "sign in": (43, 2),
    "my path": (8, 0),  # the first after signing in: it also looks for a placement to offer
    "item page": (3, 0),  # the session's person, new events for the engine, the classes' setup count
    # the session's person, BEGIN, the sequence number, the event, its mastery rows, COMMIT, then
    # for "Next" (the path as it is after the answer): new events, the classes' setup count
    "answer and its feedback page": (8, 1),
}


class Counted:
    """Every statement SQLite runs on the hub's connections, and every connection opened."""

    def __init__(self):
        self.statements: list[str] = []
        self.opened = 0
        self._seen: set[int] = set()

    def reset(self):
        self.statements.clear()
        self.opened = 0

    def wrap(self, take):
        def taking():
            connection = take()
            if id(connection) not in self._seen:
                self._seen.add(id(connection))
                self.opened += 1
            connection.set_trace_callback(self.statements.append)
            return connection
        return taking

    @property
    def writes(self) -> int:
        """Commits: each COMMIT, and each write run outside a transaction (SQLite commits it alone)."""
        commits, inside = 0, False
        for statement in self.statements:
            verb = statement.strip().split(None, 1)[0].upper()
            if verb == "BEGIN":
                inside = True
            elif verb in ("COMMIT", "ROLLBACK"):
                inside = False
                commits += verb == "COMMIT"
            elif verb in ("INSERT", "UPDATE", "DELETE", "REPLACE") and not inside:
                commits += 1
        return commits


@pytest.fixture
def counted(app, monkeypatch):
    database.close_all()  # every connection from here on is made through the counter
    counter = Counted()
    monkeypatch.setattr(db, "_connect", counter.wrap(db._connect))
    yield counter
    database.close_all()


@pytest.fixture
def learner_client(app, client, school, data_dir, tmp_path):
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=3, items_per_skill=8, pack_id=PACK))
    study(school)
    return client


def _requests(client, school, counter):
    """Each hot request once, warm: its statements, write transactions and connections opened."""
    found = {}
    counter.reset()
    assert sign_in_learner(client, school, "ana").status_code in (200, 302, 303)
    found["sign in"] = (list(counter.statements), counter.writes, counter.opened)
    for name, request in (("my path", lambda: client.get("/learn/")),
                          ("item page", lambda: client.get(url))):
        if name == "item page":
            url = _first_item_url(client)
        counter.reset()
        assert request().status_code == 200
        found[name] = (list(counter.statements), counter.writes, counter.opened)
    page, event_id = _item_page(client, url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    pack_id, item_id = url.split("/learn/item/")[1].split("?")[0].split("/")[:2]
    item = client.application.extensions["catalogue"].get().catalogue.item(pack_id, item_id)
    counter.reset()
    answered = client.post(url.split("?")[0], data={"csrf_token": token, "event_id": event_id, **_answer_form(item)})
    assert answered.status_code == 200
    found["answer and its feedback page"] = (list(counter.statements), counter.writes, counter.opened)
    return found


def test_a_learners_requests_stay_within_their_statements_and_commits(learner_client, school, counted):
    _requests(learner_client, school, counted)  # warm: the engine is built, the pool holds a connection
    learner_client.get("/logout")
    for name, (statements, writes, opened) in _requests(learner_client, school, counted).items():
        most, most_writes = LIMITS[name]
        assert len(statements) <= most, (name, len(statements), statements)
        assert writes <= most_writes, (name, writes, statements)
        assert opened == 0, f"{name} opened {opened} new connection(s): the pool should have given one"


def test_an_answer_is_one_commit_through_the_whole_request(learner_client, school, counted):
    found = _requests(learner_client, school, counted)
    statements, writes, _ = found["answer and its feedback page"]
    assert writes == 1 and sum(1 for s in statements if s.upper().startswith("COMMIT")) == 1, statements
    assert any(s.startswith('INSERT INTO "event"') for s in statements)


def test_a_change_to_a_learners_setup_is_seen_at_the_next_request(learner_client, school, counted):
    """What the hub keeps between requests (services/setup_cache.py) follows the database: a
    teacher's change to a learner's accommodations shows at the learner's next page, and the
    learner's path follows a new class assignment at once."""
    from classroom_server.services import teaching

    sign_in_learner(learner_client, school, "ana")
    assert "larger-text" not in learner_client.get("/learn/").get_data(as_text=True)
    with db.connection_context():
        teaching.set_accommodations(school.teachers["tess"], school.classes["pictures"], school.learners["ana"],
                                    {"larger_text": True})
    assert "larger-text" in learner_client.get("/learn/").get_data(as_text=True)
    with db.connection_context():
        teaching.set_accommodations(school.teachers["tess"], school.classes["pictures"], school.learners["ana"],
                                    {"larger_text": False})
    assert "larger-text" not in learner_client.get("/learn/").get_data(as_text=True)


@pytest.mark.parametrize("pack_id, item_id", [
    ("org.openclassroom.fractions", "unit-fractions-03"), ("org.example.x", "ITEMID"), ("ITEMIDPACKID", "a b/c"),
    ("pack", "é?&#%=+"), ("p", "q"),
])
@pytest.mark.parametrize("query", [
    {}, {"mode": "practice"}, {"hints": 1, "mode": "review", "why": "review_due", "days": 12},
    {"hints": None, "mode": "check", "why": "a b&c=d/é"},
])
def test_an_item_address_is_the_one_url_for_builds(app, pack_id, item_id, query):
    """The item addresses a page names by the dozen are built without werkzeug's URL builder
    (web/learner.item_url): the same text, whatever the ids and the reason carry."""
    from flask import url_for

    from classroom_server.web.learner import item_url

    with app.test_request_context("/learn/"):
        assert item_url(pack_id, item_id, query) == url_for("practice.item", pack_id=pack_id, item_id=item_id, **query)
    with app.test_request_context("/learn/", environ_base={"SCRIPT_NAME": "/hub"}):
        assert item_url(pack_id, item_id, query) == url_for("practice.item", pack_id=pack_id, item_id=item_id, **query)
