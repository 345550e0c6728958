"""Server time of the teacher's class pages for a big class: the mastery grid (progress page) and
tomorrow's plan, for 60 learners by 40 skills with a term of practice.

    python scripts/bench/teacher_views.py [--learners 60] [--skills 40] [--days 60] [--runs 15]

Builds a hub in a temporary directory (a generated pack of --skills skills in prerequisite
chains of four, a class studying it with --learners learners), lets every learner practise
--days school days through the real services (classroom_server/demo_practice.py, 12 steps a
day), then requests each page --runs times through the real handler (Flask's test client, in
this process: no network, no waitress) as the class's teacher and times each request whole.
The first request of each page is reported apart (it warms the engine's caches). The last line
is one JSON object; the aim (#18) is under 150 ms a page here.
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
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--skills", type=int, default=40)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    from click.testing import CliRunner
    from content_packs.testing import edit_json, make_pack

    from classroom_server.app import create_app
    from classroom_server.cli import main as cli
    from classroom_server.db import db
    from classroom_server.demo_practice import simulate
    from classroom_server.models import Event, Person
    from classroom_server.services import accounts, courses, packs

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "hub"
        done = CliRunner().invoke(cli, ["init", "--data", str(data), "--admin-password", "bench-admin-pw"])
        assert done.exit_code == 0, done.output
        app = create_app(data, {"log_level": "warning"})
        src = make_pack(Path(tmp) / "src", skills=args.skills, items_per_skill=6, pack_id="org.bench")

        def chains(manifest: dict) -> None:  # prerequisite chains of four skills
            for n, skill in enumerate(manifest["skills"]):
                skill["prerequisites"] = [manifest["skills"][n - 1]["id"]] if n % 4 else []
        edit_json(src / "pack.json", chains)
        packs.import_pack(data, src)
        with db.connection_context():
            admin = Person.get(Person.username == "admin")
            teacher = accounts.create_staff("teacher", "tess", "Tess", "bench-teacher-pw", admin)
            classroom = accounts.create_class("Bench", "pin", [teacher.id], admin)
            courses.set_courses(admin, classroom, [courses.Course("org.bench")])
            learners = [accounts.create_learner(classroom, f"Learner {n:02d}", "blue", f"{n:04d}", teacher)
                        for n in range(args.learners)]
        engine = app.extensions["engine"]
        started = time.perf_counter()
        with db.connection_context():
            answers = simulate(engine, learners, days=args.days)
            events = Event.select().count()
        built = time.perf_counter() - started

        client = app.test_client()
        page = client.get("/login/staff").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login/staff", data={"csrf_token": token, "username": "tess", "password": "bench-teacher-pw"})
        found: dict[str, dict[str, float]] = {}
        for name, url in (("grid", f"/teach/classes/{classroom.id}/progress"),
                          ("plan", f"/teach/classes/{classroom.id}/plan")):
            times = []
            for _ in range(args.runs + 1):
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            found[name] = {"first_ms": round(times[0], 1), "median_ms": round(statistics.median(times[1:]), 1),
                           "max_ms": round(max(times[1:]), 1), "bytes": len(response.get_data())}
    result = {"learners": args.learners, "skills": args.skills, "days": args.days, "answers": answers,
              "events": events, "build_s": round(built, 1), **found}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
