"""One answer, one commit: the event and the projection rows it changes are written together.

Counting statements is how this stays true: a change that adds a query or a second transaction
to the answer path fails here, whatever it costs on this machine (on a Pi's SD card each extra
commit is another fsync).
"""

import re
import uuid

import pytest
from content_packs.testing import make_pack

from classroom_server.db import db
from classroom_server.models import Event, MasteryRow
from classroom_server.services import packs, practice
from tests.conftest import sign_in_learner, study

PACK = "org.example.onecommit"
MAX_STATEMENTS = 5  # BEGIN, the sequence number, the event, its mastery rows, COMMIT


class Trace:
    def __init__(self):
        self.statements: list[str] = []

    def __enter__(self):
        db.connection().set_trace_callback(self.statements.append)
        return self

    def __exit__(self, *exc):
        db.connection().set_trace_callback(None)

    @property
    def commits(self):
        return [s for s in self.statements if s.strip().upper().startswith("COMMIT")]


@pytest.fixture
def ready(app, school, data_dir, tmp_path):
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=2, items_per_skill=6, pack_id=PACK))
    study(school)
    engine = app.extensions["engine"]
    with db.connection_context():
        learner = school.learners["ana"]
        engine.catch_up()  # warm: the engine is built at the first read, not on the answer path
    return engine, learner


def _answer(engine, learner, item, right=True, event_id=None):
    from tests.test_practice import _answer_response

    response = _answer_response(item, engine.catalogue_store.get().catalogue.pack(PACK).languages[0], right)
    return practice.record_attempt(engine, learner, PACK, item.id, response,
                                   event_id=event_id or str(uuid.uuid4()))


def test_an_answer_is_one_commit_of_at_most_five_statements(ready):
    engine, learner = ready
    first_skill = engine.catalogue_store.get().catalogue.pack(PACK).skills[0].id
    items = [i for i in engine.catalogue_store.get().catalogue.pack(PACK).items if i.skill == first_skill]
    assert len(items) >= 3
    with db.connection_context():
        for n, item in enumerate(items[:3]):
            with Trace() as trace:
                outcome = _answer(engine, learner, item, right=n != 1)
            assert len(trace.commits) == 1, trace.statements
            assert len(trace.statements) <= MAX_STATEMENTS, trace.statements
            assert outcome.transitions is not None
            stored = MasteryRow.get(MasteryRow.learner_uid == learner.uid,
                                    MasteryRow.skill == f"{PACK}:{item.skill}")
            event = Event.get(Event.event_id == outcome.event_id)
            assert stored.event_id == event.id  # the row was written with its event
            assert stored.attempts == n + 1


def test_a_resent_answer_writes_nothing(ready):
    engine, learner = ready
    item = next(i for i in engine.catalogue_store.get().catalogue.pack(PACK).items if i.type == "single_choice")
    event_id = str(uuid.uuid4())
    with db.connection_context():
        first = _answer(engine, learner, item, event_id=event_id)
        before = MasteryRow.select().dicts()[:]
        with Trace() as trace:
            again = _answer(engine, learner, item, right=False, event_id=event_id)
        writes = [s for s in trace.statements if re.match(r"\s*(INSERT|UPDATE|DELETE)", s, re.I)]
        assert MasteryRow.select().dicts()[:] == before
    assert again.duplicate and again.correct == first.correct
    assert writes == [] or all("ON CONFLICT" in w or "RETURNING" in w for w in writes)


def test_a_failed_commit_leaves_memory_as_the_log_says(ready, monkeypatch):
    """The engine learns an answer inside the transaction; if the commit fails, memory must not
    keep it (the next read rebuilds from the log), and the stored rows must equal a rebuild."""
    from classroom_server.services import projections
    from classroom_server.services.learning import Engine, compare_with_stored

    engine, learner = ready
    items = engine.catalogue_store.get().catalogue.pack(PACK).items
    with db.connection_context():
        _answer(engine, learner, items[0])
        real = projections.project

        def project_then_fail(event):
            real(event)
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(projections, "project", project_then_fail)
        with pytest.raises(OSError):
            _answer(engine, learner, items[1])
        monkeypatch.setattr(projections, "project", real)
        with engine.reading() as snap:
            attempts = snap.state.peek(learner.uid, f"{PACK}:{items[0].skill}").attempts
        assert attempts == 1  # the failed answer is not in memory
        fresh = Engine(engine.catalogue_store, persist=False)
        fresh.catch_up()
        assert compare_with_stored(fresh.rows) == []


def test_the_http_answer_also_commits_once(app, client, school, ready):
    """The whole request (session, page state, answer, feedback page): still one commit."""
    from tests.test_practice import _answer_form, _first_item_url, _item_page

    engine, _learner = ready
    sign_in_learner(client, school, "ana")
    url = _first_item_url(client)
    page, event_id = _item_page(client, url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    pack_id, item_id = url.split("/learn/item/")[1].split("?")[0].split("/")[:2]
    item = engine.catalogue_store.get().catalogue.item(pack_id, item_id)
    data = {"csrf_token": token, "event_id": event_id, **_answer_form(item)}
    with db.connection_context():  # the request's own connection context nests in this one
        with Trace() as trace:
            answered = client.post(url.split("?")[0], data=data)
    assert answered.status_code == 200, answered.get_data(as_text=True)[:300]
    assert len(trace.commits) == 1, trace.statements
    assert Event.select().where(Event.event_id == event_id).count() == 1
