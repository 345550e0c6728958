"""One answer through the hub, counted: SQL statements, commits and time per answer request.

    python scripts/bench/answer_path.py [--answers 300] [--synchronous full] [--library] [--json]

Builds a hub in a temporary directory (init, one generated pack of 3 skills, a class with one
learner), signs the learner in through the real pages, then answers --answers items one after
another through the real HTTP handler (Flask's test client, in this process: no network, no
waitress), each answer a fresh item page then its POST. SQLite's trace callback counts every
statement the answer POST runs (BEGIN and COMMIT included), and the time of each POST is taken
around the whole request, in wall time and in this thread's CPU time (``time.thread_time``: what
the request itself cost, which other work on the machine does not inflate); the item page's CPU
time is taken too. The database runs with the hub's defaults (WAL, synchronous=FULL,
so every commit is an fsync).

It works against any version of the hub that has the same pages, so the same script measures
the answer path before and after a change. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--synchronous", default="full", choices=["full", "normal"])
    parser.add_argument("--library", action="store_true",
                        help="answer the bundled Fractions pack's items (real stems, pictures, hints) instead of a "
                             "generated pack's")
    parser.add_argument("--json", action="store_true",
                        help="post each answer as the device's answer queue does (Accept: application/json: the "
                             "verdict in JSON, no feedback page)")
    args = parser.parse_args(argv)

    from click.testing import CliRunner
    from content_packs.testing import key_response, make_pack

    from classroom_server.app import create_app
    from classroom_server.cli import main as cli
    from classroom_server.db import db
    from classroom_server.models import Person
    from classroom_server.services import accounts, packs

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "hub"
        done = CliRunner().invoke(cli, ["init", "--data", str(data), "--admin-password", "bench-admin-pw"])
        assert done.exit_code == 0, done.output
        app = create_app(data, {"log_level": "warning", "sqlite_synchronous": args.synchronous})
        root = Path(__file__).resolve().parents[2]
        source = (root / "content_packs" / "library" / "fractions" if args.library
                  else make_pack(Path(tmp) / "src", skills=3, items_per_skill=40, pack_id="org.bench"))
        pack_id = packs.import_pack(data, source).pack_id
        with db.connection_context():
            admin = Person.get(Person.username == "admin")
            teacher = accounts.create_staff("teacher", "tess", "Tess", "bench-teacher-pw", admin)
            classroom = accounts.create_class("Bench", "pin", [teacher.id], admin)
            learner = accounts.create_learner(classroom, "Ana", "blue", "1234", teacher)
        client = app.test_client()
        page = client.get(f"/login/learner/{classroom.id}/{learner.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post(f"/login/learner/{classroom.id}/{learner.id}", data={"csrf_token": token, "pin": "1234"})
        catalogue = app.extensions["catalogue"].get().catalogue
        items = [i for i in catalogue.pack(pack_id).items if i.type == "single_choice" and not i.check]

        statements: list[str] = []
        counts, commits, times, cpu, page_cpu = [], [], [], [], []
        for n in range(args.answers):
            item = items[n % len(items)]
            working = time.thread_time()
            page = client.get(f"/learn/item/{pack_id}/{item.id}").get_data(as_text=True)
            page_cpu.append(time.thread_time() - working)
            event_id = re.search(r'name="event_id" value="([^"]+)"', page).group(1)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            answer = key_response(item, "en") if n % 3 else next(c.id for c in item.choices if not c.correct)
            with db.connection_context():  # the request's connection context nests in this one
                db.connection().set_trace_callback(statements.append)
                started, working = time.perf_counter(), time.thread_time()
                response = client.post(f"/learn/item/{pack_id}/{item.id}",
                                       data={"csrf_token": token, "event_id": event_id, "answer": answer},
                                       headers={"Accept": "application/json" if args.json else "text/html"})
                times.append(time.perf_counter() - started)
                cpu.append(time.thread_time() - working)
                db.connection().set_trace_callback(None)
            assert response.status_code == 200, response.status_code
            counts.append(len(statements))
            commits.append(sum(1 for s in statements if s.strip().upper().startswith("COMMIT")))
            if n == 0:
                print("statements of one answer POST:", *statements, sep="\n  ", flush=True)
            statements.clear()
        db.close()

    times_ms = sorted(t * 1000 for t in times)
    result = {
        "answers": args.answers, "synchronous": args.synchronous, "pack": pack_id,
        "answer_reply": "json" if args.json else "feedback page",
        "statements_per_answer": statistics.median(counts), "commits_per_answer": statistics.median(commits),
        "answer_ms_p50": round(statistics.median(times_ms), 2),
        "answer_ms_p95": round(times_ms[int(0.95 * (len(times_ms) - 1))], 2),
        "answer_cpu_ms_p50": round(statistics.median(cpu) * 1000, 2),
        "item_page_cpu_ms_p50": round(statistics.median(page_cpu) * 1000, 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
