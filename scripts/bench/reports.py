"""What the reports cost: a class of 60 learners, a 40-skill pack, a term of practice.

    python scripts/bench/reports.py [--learners 60] [--skills 40] [--days 60] [--per-day 12] [--runs 7]

1. Builds a temporary hub with one class of --learners learners studying a generated pack of
   --skills skills (content_packs.testing.make_pack: each skill for grades 3 to 4, the pack for
   3 to 5), and --days school days of simulated practice through the real services
   (classroom_server.demo_practice.simulate, --per-day answers a learner a day), all within the
   default report period (the last 12 weeks). Learners' sign-in secrets use the test suite's
   cheap hash (sign-in is not measured here).
2. Signs the teacher in and times each report through the Flask test client (the whole request:
   routing, access checks, the service, the template, the SVG): the class summary the first time
   after a start (the engine folds the whole log at its first use, noting the changes of state
   the reports read), then warm (median of --runs); after one more school day of answers; one
   learner's growth page; the family report; the three CSV files.
3. Folds the history independently from the start (services/reports/history.MasteryHistory, the
   check the tests use), and again under tracemalloc for the memory such a fold keeps; and times
   the engine's own rebuild from the log (what the hub does each time it starts), which now notes
   the changes of state as it goes.

Prints one line per measurement and, as its last line, one JSON object with the results.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PACK = "org.example.bench-reports"
PASSWORD = "bench-teacher-123"


def _median_ms(client: Any, path: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return round(statistics.median(times) * 1000, 1)


def _once_ms(client: Any, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return round((time.perf_counter() - started) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--skills", type=int, default=40)
    parser.add_argument("--days", type=int, default=60, help="school days of practice (a term: 12 weeks of 5)")
    parser.add_argument("--per-day", type=int, default=12, help="answers a learner a day (the demo's number)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from classroom_server.app import create_app
    from classroom_server.db import db
    from classroom_server.demo_practice import simulate
    from classroom_server.models import Event
    from classroom_server.services import accounts, courses, hub, packs
    from classroom_server.services.reports import history as histories
    from content_packs.testing import make_pack

    with tempfile.TemporaryDirectory(prefix="reports-bench-") as folder:
        root = Path(folder)
        data = root / "hub"
        data.mkdir()
        app = create_app(data, {"TESTING": True, "log_level": "warning", "insecure_fast_hashes": True})
        engine = app.extensions["engine"]
        started = time.perf_counter()
        with db.connection_context():
            hub.initialize_identity()
            admin = accounts.create_staff("admin", "admin", "Admin", "bench-admin-123")
            teacher = accounts.create_staff("teacher", "teacher", "Teacher", PASSWORD, admin)
            classroom = accounts.create_class("Bench class", "pin", [teacher.id], admin)
            learners = [accounts.create_learner(classroom, f"Learner {n:02d}", "green", f"{n:04d}", teacher)
                        for n in range(args.learners)]
            packs.import_pack(data, make_pack(root / "pack", skills=args.skills, items_per_skill=6, pack_id=PACK))
            courses.set_courses(admin, classroom, [courses.Course(PACK)])
            answers = simulate(engine, learners, days=args.days, steps_per_day=args.per_day)
            events = Event.select().count()
        print(f"hub: {args.learners} learners, {args.skills} skills, {args.days} days, {answers} answers, "
              f"{events} events ({time.perf_counter() - started:.0f} s to build)")

        client = app.test_client()
        token = client.get("/login/staff").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        assert client.post("/login/staff", data={"username": "teacher", "password": PASSWORD,
                                                 "csrf_token": token}).status_code == 302
        base = f"/teach/classes/{classroom.id}/reports"
        learner = f"{base}/learners/{learners[0].id}"
        results: dict[str, Any] = {}
        with db.connection_context():
            engine.invalidate()  # as after a start: the engine folds the whole log at its first use
        results["summary_cold_ms"] = _once_ms(client, base)
        print(f"class summary, first after a start (the engine folds the whole log first): "
              f"{results['summary_cold_ms']} ms")
        results["summary_ms"] = _median_ms(client, base, args.runs)
        print(f"class summary, warm: median {results['summary_ms']} ms of {args.runs}")

        with db.connection_context():  # one more school day of answers
            more = simulate(engine, learners, days=1, steps_per_day=args.per_day, seed=7)
        results["summary_after_a_day_ms"] = _once_ms(client, base)
        print(f"class summary after one more day ({more} answers to fold): {results['summary_after_a_day_ms']} ms")
        for name, path in (("learner_ms", learner), ("family_ms", f"{learner}/family?language=fr"),
                           ("skills_csv_ms", f"{base}/skills.csv"), ("growth_csv_ms", f"{base}/growth.csv"),
                           ("learner_csv_ms", f"{learner}/growth.csv"), ("summary_year_ms", f"{base}?period=year")):
            results[name] = _median_ms(client, path, args.runs)
            print(f"{name}: median {results[name]} ms of {args.runs}")
        size = len(client.get(base).get_data())
        print(f"class summary page: {size / 1024:.0f} KiB")

        with db.connection_context():
            with engine.reading() as snap:
                catalog = snap.catalog
            fresh = histories.MasteryHistory()
            started = time.perf_counter()
            fresh.refresh(catalog)
            fold_s = time.perf_counter() - started
            tracemalloc.start()
            kept = histories.MasteryHistory()
            kept.refresh(catalog)
            held_mb = tracemalloc.get_traced_memory()[0] / 1e6
            tracemalloc.stop()
            changes = sum(len(c) for c in kept.changes.values())
            from classroom_server.services.learning import Engine

            rebuilt = Engine(app.extensions["catalogue"], persist=False)  # what the hub does when it starts
            started = time.perf_counter()
            rebuilt.catch_up()
            engine_s = time.perf_counter() - started
        print(f"history from the start: {kept.events} engine events in {fold_s * 1000:.0f} ms "
              f"({kept.events / fold_s:.0f} events/s); {changes} state changes; {held_mb:.1f} MB kept")
        print(f"the engine's own rebuild from the log, for comparison: {engine_s * 1000:.0f} ms")
        if not db.is_closed():
            db.close()

    print(json.dumps({
        "learners": args.learners, "skills": args.skills, "days": args.days, "per_day": args.per_day,
        "answers": answers + more, "events": events, "runs": args.runs, **results,
        "history_fold_ms": round(fold_s * 1000, 1), "history_events": kept.events, "state_changes": changes,
        "history_mb": round(held_mb, 1), "engine_rebuild_ms": round(engine_s * 1000, 1),
        "summary_page_kib": round(size / 1024, 1),
    }))


if __name__ == "__main__":
    main()
