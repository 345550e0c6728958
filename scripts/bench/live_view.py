"""The live class view's server time: the full page, the cards when something changed, and the
304 answer when nothing did, for a class of 60 learners after a term of practice.

    python scripts/bench/live_view.py [--learners 60] [--days 60] [--steps 12] [--runs 40]

Builds a hub in a temporary directory (init, the bundled packs, one class of --learners that
studies them all), lets every learner practise --days past school days of --steps activities
(classroom_server/demo_practice.simulate: each learner follows their own path through the real
services), then today's lesson: every learner practises for a few minutes from 9:00, and the
clock stands at the end of it (some learners are still answering, some idle, some stuck).

Then, in this process through Flask's test client (no network, no waitress), signed in as the
class's teacher, it times --runs requests of each: the page (`/live`), the cards after one new
answer in the class each time (`/live/now`, 200: a rebuild), and the cards with the ETag just
received (`/live/now`, 304). The time is taken around the whole request. It also times the one
query a 304 makes on the event table on its own, and counts the SQL statements of one 304
answer. The database runs with the hub's defaults (WAL, synchronous=FULL). The last line is one
JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(s * 1000 for s in samples)
    return {"p50": round(statistics.median(ordered), 2), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
            "max": round(ordered[-1], 2)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--days", type=int, default=60, help="past school days of practice (a term)")
    parser.add_argument("--steps", type=int, default=12, help="activities per learner and day")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    from click.testing import CliRunner

    from classroom_server import clock
    from classroom_server.app import create_app
    from classroom_server.cli import main as cli
    from classroom_server.db import db
    from classroom_server.demo import install_bundled_packs
    from classroom_server.demo_practice import right_form, simulate, wrong_form
    from classroom_server.models import Event, Person
    from classroom_server.services import accounts, courses, live, packs, practice
    from classroom_server.web.practice import decode_answer

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "hub"
        done = CliRunner().invoke(cli, ["init", "--data", str(data), "--admin-password", "bench-admin-pw"])
        assert done.exit_code == 0, done.output
        app = create_app(data, {"log_level": "warning"})
        engine = app.extensions["engine"]
        install_bundled_packs(data)
        with db.connection_context():
            admin = Person.get(Person.username == "admin")
            teacher = accounts.create_staff("teacher", "tess", "Tess", "bench-teacher-pw", admin)
            classroom = accounts.create_class("Bench", "pin", [teacher.id], admin)
            learners = [accounts.create_learner(classroom, f"Learner {n:02d}", "blue", f"{n:04d}", teacher)
                        for n in range(args.learners)]
            courses.set_courses(admin, classroom, [courses.Course(row.pack_id) for row in packs.installed()])

        began = time.perf_counter()
        with db.connection_context():
            answers = simulate(engine, learners, days=args.days, steps_per_day=args.steps, seed=args.seed)
        # Today's lesson: each learner practises a few activities from 9:00 (simulate's "yesterday"
        # seen from tomorrow), and the clock stops at 9:08: some still answering, some idle.
        tomorrow = clock.now() + dt.timedelta(days=1)
        with db.connection_context():
            for n, learner in enumerate(learners):
                with clock.pretend(tomorrow):
                    answers += simulate(engine, [learner], days=1, steps_per_day=rng.randint(2, 10),
                                        seed=args.seed + n)
        built_s = time.perf_counter() - began
        now = clock.now().replace(hour=9, minute=8, second=0, microsecond=0)
        with db.connection_context():
            events = Event.select().count()
        print(f"{args.learners} learners, {answers} answers, {events} events; built in {built_s:.0f} s", flush=True)

        client = app.test_client()
        page = client.get("/login/staff").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login/staff", data={"csrf_token": token, "username": "tess", "password": "bench-teacher-pw"})
        url = f"/teach/classes/{classroom.id}/live"
        catalogue = engine.catalogue_store.get().catalogue
        items = [(p.id, i) for p in catalogue.packs for i in p.items]

        page_s, changed_s, same_s = [], [], []
        statements: list[str] = []
        with clock.pretend(now):
            assert client.get(url).status_code == 200  # warm: templates compiled, engine caught up
            tag = client.get(url + "/now").headers["ETag"]
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(url)
                page_s.append(time.perf_counter() - started)
                assert response.status_code == 200
            for _ in range(args.runs):
                pack_id, item = rng.choice(items)
                form = right_form(item, "en") if rng.random() < 0.6 else wrong_form(item, "en", rng)
                with db.connection_context():  # one new answer in the class: the cards must be rebuilt
                    practice.record_attempt(engine, rng.choice(learners), pack_id, item.id,
                                            decode_answer(item, form), event_id=None)
                started = time.perf_counter()
                response = client.get(url + "/now", headers={"If-None-Match": tag})
                changed_s.append(time.perf_counter() - started)
                assert response.status_code == 200
                tag = response.headers["ETag"]
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(url + "/now", headers={"If-None-Match": tag})
                same_s.append(time.perf_counter() - started)
                assert response.status_code == 304
            version_s = []
            with db.connection_context():  # the 304's own work: the one query on the event table
                for _ in range(args.runs):
                    started = time.perf_counter()
                    live.latest_event_id(classroom)
                    version_s.append(time.perf_counter() - started)
            with db.connection_context():  # the request's connection context nests in this one
                db.connection().set_trace_callback(statements.append)
                assert client.get(url + "/now", headers={"If-None-Match": tag}).status_code == 304
                db.connection().set_trace_callback(None)
        db.close()

    print("statements of one 304 answer:", *statements, sep="\n  ")
    result = {
        "learners": args.learners, "answers": answers, "events": events,
        "page_ms": _ms(page_s), "cards_changed_ms": _ms(changed_s), "cards_304_ms": _ms(same_s),
        "version_query_ms": _ms(version_s),
        "statements_304": len(statements),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
