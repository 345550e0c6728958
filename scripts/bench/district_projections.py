"""What it costs the district to recompute one hub's projections from its whole log.

    python scripts/bench/district_projections.py [--days 3] [--runs 5] [--postgres URL]

1. Builds the demo school (30 learners, the bundled packs) in a temporary hub, with --days
   school days of simulated practice through the real services (the demo makes 3).
2. Syncs it, in this process, with a district on SQLite in the same temporary folder, or on the
   PostgreSQL server of --postgres (e.g. postgresql://postgres@127.0.0.1:5432/postgres), in a
   fresh database made for the run and dropped after it.
3. Times sync/district/projections.recompute for that hub --runs times: reading the events and
   manifests (load), the fold (fold) and replacing the rows (write); and, for comparison, the
   hub's own full rebuild of its projections (`recompute --check` without the command). One
   more recompute runs under tracemalloc, for the peak memory the Python objects take.

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
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _postgres_database(url: str) -> tuple[str, Any]:
    """A fresh database on the server of ``url``; returns its URL and a function that drops it."""
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(url)
    dsn = (f"host={parsed.hostname or '127.0.0.1'} port={parsed.port or 5432} "
           f"user={parsed.username or 'postgres'} dbname={parsed.path.lstrip('/') or 'postgres'}")
    name = f"district_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    netloc = parsed.netloc or "postgres@127.0.0.1:5432"
    return f"postgresql://{netloc}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=3, help="school days of practice (the demo makes 3)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server for the district (default: SQLite)")
    args = parser.parse_args()

    from classroom_server import demo
    from classroom_server.app import create_app
    from classroom_server.db import db
    from classroom_server.demo_practice import simulate
    from classroom_server.models import Event, Person
    from classroom_server.services import projections as hub_projections
    from classroom_server.services import sync as hub_sync
    from sync.district import projections, service
    from sync.district.app import create_district_app
    from sync.transport import AppTransport

    with tempfile.TemporaryDirectory(prefix="district-bench-") as folder:
        root = Path(folder)
        data = root / "hub"
        data.mkdir()
        app = create_app(data, {"log_level": "warning"})
        started = time.perf_counter()
        demo.build(data, seed=7)
        with db.connection_context():
            learners = list(Person.select().where(Person.role == "learner").order_by(Person.id))
            answers = simulate(app.extensions["engine"], learners, days=args.days)
        print(f"hub: {len(learners)} learners, {args.days} days, {answers} answers "
              f"({time.perf_counter() - started:.1f} s to build)")

        drop = None
        if args.postgres:
            url, drop = _postgres_database(args.postgres)
        else:
            url = f"sqlite:///{root / 'district.sqlite3'}"
        try:
            district = create_district_app(url)
            database = district.extensions["district_database"]
            with database.connection_context():
                code = service.register_hub(service.add_school("Bench School"), "Bench hub")[1]
            transport = AppTransport(district)
            with db.connection_context():
                hub_sync.enrol(transport, "http://district.invalid", code, "Bench hub")
                started = time.perf_counter()
                outcome = hub_sync.run(transport)
                events = Event.select().count()
            print(f"sync: {outcome.pushed} events in {time.perf_counter() - started:.2f} s")

            runs: list[projections.Recomputed] = []
            totals: list[float] = []
            with database.connection_context():
                (registration,) = service.hubs()
                for _ in range(args.runs):
                    started = time.perf_counter()
                    runs.append(projections.recompute(registration))
                    totals.append(time.perf_counter() - started)
                tracemalloc.start()  # one more run, for the memory it takes (slower while traced)
                projections.recompute(registration)
                peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
                tracemalloc.stop()
            last = runs[-1]
            assert last.problem is None and last.missing == 0, last
            median = {part: statistics.median(r.seconds[part] for r in runs) for part in ("load", "fold", "write")}
            total = statistics.median(totals)
            print(f"district recompute ({'PostgreSQL' if args.postgres else 'SQLite'}): {last.events} events, "
                  f"{last.mastery_rows} mastery rows, median {total * 1000:.0f} ms of {args.runs} "
                  f"(load {median['load'] * 1000:.0f}, fold {median['fold'] * 1000:.0f}, "
                  f"write {median['write'] * 1000:.0f}); {last.events / total:.0f} events/s; "
                  f"peak Python memory {peak_mb:.1f} MB")

            hub_totals = []
            for _ in range(args.runs):
                started = time.perf_counter()
                outcomes = hub_projections.recompute(app.extensions["catalogue"], check=True)
                hub_totals.append(time.perf_counter() - started)
                assert all(not o.problems for o in outcomes), outcomes
            hub_total = statistics.median(hub_totals)
            print(f"hub rebuild and check, for comparison: median {hub_total * 1000:.0f} ms")
        finally:
            if not db.is_closed():
                db.close()
            if drop is not None:
                from sync.district.models import district_db

                if district_db.obj is not None and not district_db.obj.is_closed():
                    district_db.obj.close()
                drop()

    print(json.dumps({
        "learners": len(learners), "days": args.days, "answers": answers, "events": events,
        "district": "postgresql" if args.postgres else "sqlite", "runs": args.runs,
        "recompute_ms": round(total * 1000, 1), "load_ms": round(median["load"] * 1000, 1),
        "fold_ms": round(median["fold"] * 1000, 1), "write_ms": round(median["write"] * 1000, 1),
        "events_per_s": round(last.events / total), "mastery_rows": last.mastery_rows,
        "peak_mb": round(peak_mb, 1),
        "hub_rebuild_check_ms": round(hub_total * 1000, 1),
    }))


if __name__ == "__main__":
    main()
