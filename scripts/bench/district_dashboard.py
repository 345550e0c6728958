"""The district dashboard's server time for a large district: 200 schools, 1,000 classes and
about 10 million events on PostgreSQL.

    .venv/bin/python scripts/bench/district_dashboard.py [--quick] [--schools 200] [--classes 1000]
        [--learners 28] [--events 10000000] [--days N] [--spread 7] [--workers 2] [--requests 20]
        [--warmups 2] [--postgres URL] [--keep]

1. Makes a fresh database on the PostgreSQL server of --postgres (default: the local one) with
   the district's schema (sync/district/models.connect: events partitioned by school), and adds
   --schools schools (sync.district.service.add_school).
2. Builds one real hub through the real services, as `classroom-server demo` does: the demo
   school (2 classes), each class filled up to --learners learners (accounts.create_learner), then
   --days school days of simulated practice (demo_practice.simulate; by default as many days as
   give about --events events over all the hubs). Enrols it with the district (the first school)
   and syncs it, in this process, through the real district app (hub_sync.run): its events,
   manifests and high-water marks are then what the district holds of a real hub.
3. Enrols as many more hubs as make --classes classes (service.register_hub and enrol, spread over
   the schools in turn) and gives each a copy of that real log (not timed as a sync): every
   UUID rewritten so that no two copies share one (event ids, the hub id in the origins, learner,
   staff and class uids, in the columns and in the payloads), the payload hash recomputed by the
   hub's rule (eventkinds.payload_hash, as the district checks it), every time moved back by up
   to --spread whole days (copy n by n mod (spread + 1)) so that schools differ. Each copy is
   inserted with COPY into the event table, with its Origin rows (high-water mark and tip, as
   push sets them), its learners' Learner rows and its HubManifest rows, in one transaction; then
   the hub's bookkeeping of a sync (service.take_counter and service.hello). --workers processes
   do this, each with its own connection.
4. Recomputes every hub's projections with the real code (projections.recompute: the whole log
   folded, the mastery, roster and growth summary rows replaced), in --workers processes, each
   with its own connection (sync.district.models.connect). Then VACUUM ANALYZE, what autovacuum
   does to a district that has been running for a while (planner statistics, visibility map).
5. Adds a district-wide staff account and one for the school of the class chosen below (staff.add),
   signs each in through the sign-in form (its CSRF token), and times every dashboard page with
   Flask's test client on the real district app (in-process: server time without the network,
   each request timed whole, a new database connection per request as under waitress): --warmups
   requests, then --requests timed ones, with the default period and with ?period=year. The class
   pages are those of the class whose learners are closest to the average, on a hub in the middle
   of the list; the learner page is its first learner's. The school account times the pages of
   its own school.
6. Prints the database size and the row counts of the largest tables, and drops the database
   (--keep keeps it; its URL is printed).

Prints one line per phase (progress goes to stderr) and, as its last line, one JSON object with
the results. --quick makes a small district (3 schools, 10 classes of 15 learners, 3 days) and
finishes in about a minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import multiprocessing
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.bench.district_scale import DEFAULT_POSTGRES, _machine, _postgres_database  # noqa: E402

STEPS_PER_DAY = 12  # demo_practice.simulate's default: answers (or views) a learner a school day
PAGE_AIM_MS = 300.0  # the aim stated in the project's issue: server time per page
# A UUID as the hub makes them (version 4); a copy's UUIDs carry version "b" instead, so a rewritten
# id never matches again and never equals an id of the real hub or of another copy.
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
DAY_MICROS = 86400 * 1_000_000  # the hlc counts microseconds (milliseconds x 1000 plus a counter)


# --- the real hub ---------------------------------------------------------------------------------

def build_hub(data: Path, learners: int, days: int, seed: int = 7) -> tuple[Any, int, int]:
    """The demo school in ``data``, its classes filled up to ``learners`` each, with ``days`` days
    of simulated practice; returns the hub's app, its classes and its answers."""
    from classroom_server import demo
    from classroom_server.app import create_app
    from classroom_server.db import db
    from classroom_server.demo_practice import simulate
    from classroom_server.models import Classroom, Person
    from classroom_server.services import accounts, security

    app = create_app(data, {"log_level": "warning"})
    logins = demo.build(data, seed=seed)
    rng = random.Random(seed)
    with db.connection_context():
        for entry in logins["classes"]:
            classroom = Classroom.get_by_id(entry["id"])
            teacher = Person.get(Person.username == entry["teacher"])
            for n in range(len(entry["learners"]), learners):
                if entry["kind"] == "picture":
                    secret: Any = [rng.choice(security.PICTURES) for _ in range(security.PICTURE_COUNT)]
                else:
                    secret = f"{rng.randrange(10000):04d}"
                name = f"{demo.FIRST_NAMES[n % len(demo.FIRST_NAMES)]} {chr(ord('A') + n // len(demo.FIRST_NAMES))}."
                accounts.create_learner(classroom, name, rng.choice(accounts.AVATAR_COLOURS), secret, teacher)
        people = list(Person.select().where(Person.role == "learner").order_by(Person.id))
        answers = simulate(app.extensions["engine"], people, days=days)
    return app, len(logins["classes"]), answers


def sync_hub(district: Any, school: Any, name: str) -> int:
    """Enrol the hub of this process with the district and sync it; returns the events pushed."""
    from classroom_server.db import db
    from classroom_server.services import sync as hub_sync
    from sync.district import service
    from sync.transport import AppTransport

    database = district.extensions["district_database"]
    with database.connection_context():
        code = service.register_hub(school, name)[1]
    transport = AppTransport(district)
    with db.connection_context():
        hub_sync.enrol(transport, "http://district.invalid", code, name)
        outcome = hub_sync.run(transport, pause=None)  # nobody practises now: no giving way
    return int(outcome.pushed)


def template_of(registration_id: int) -> dict[str, Any]:
    """What the district holds of one hub, to copy: its event rows, origins, learners and the
    manifests it named by ``<pack>@<version>``."""
    from sync.district import service
    from sync.district.models import Event, Hub, HubManifest, Origin

    registration = Hub.get_by_id(registration_id)
    origins = list(Origin.select(Origin.origin, Origin.hwm, Origin.tip).where(Origin.hub == registration_id).tuples())
    columns = [c for c in service._EVENT_COLUMNS if c not in ("school", "received_at")]
    rows = list(Event.select(*(getattr(Event, c) for c in columns))
                .where(Event.origin.in_([o for o, _, _ in origins])).order_by(Event.origin, Event.seq).tuples())
    learners = sorted({row[columns.index("learner_uid")] for row in rows} - {None})
    manifests = list(HubManifest.select(HubManifest.name, HubManifest.key)
                     .where(HubManifest.hub == registration_id).tuples())
    return {"hub_id": registration.hub_id, "columns": columns, "rows": rows, "origins": origins,
            "learners": learners, "manifests": manifests}


# --- copies of its log ----------------------------------------------------------------------------

def renamed(text: str | None, copy: int) -> str | None:
    """``text`` with every version-4 UUID in it made this copy's own."""
    if text is None:
        return None
    return UUID4.sub(lambda m: f"{copy:08x}-{m.group()[9:13]}-b{m.group()[15:]}", text)


_WORKER: dict[str, Any] = {}


def _worker_start(url: str, template: dict[str, Any] | None) -> None:
    import logging

    from sync.district.models import connect

    logging.getLogger("classroom_server.district").setLevel(logging.WARNING)
    _WORKER["database"] = connect(url)
    _WORKER["template"] = template


def _copy_hub(job: tuple[int, int, int, int]) -> int:
    """Give one enrolled hub a copy of the real log; returns the events inserted."""
    from classroom_server import eventkinds
    from sync import protocol
    from sync.district import service
    from sync.district.models import Hub, HubManifest, Learner, Origin, School

    copy, registration_id, school_id, shift = job
    template, database = _WORKER["template"], _WORKER["database"]
    columns: list[str] = template["columns"]
    at = {name: n for n, name in enumerate(columns)}
    moved: dict[str, str] = {}

    def earlier(stamp: str) -> str:  # whole days back: only the date changes
        day = stamp[:10]
        if day not in moved:
            moved[day] = (dt.date.fromisoformat(day) - dt.timedelta(days=shift)).isoformat()
        return moved[day] + stamp[10:]

    received = service.now()
    order = service._EVENT_COLUMNS
    held: list[tuple[str, str]] = []  # every id the district holds, as service._insert_rows keeps them
    with database.connection_context():
        with database.atomic():
            with database.connection().cursor() as cursor:
                with cursor.copy(f"COPY event ({', '.join(order)}) FROM STDIN") as out:
                    for source in template["rows"]:
                        row = {name: source[n] for name, n in at.items()}
                        for name in ("event_id", "origin", "learner_uid", "actor_uid", "class_uid", "payload"):
                            row[name] = renamed(row[name], copy)
                        row["hlc"] = int(row["hlc"]) - shift * DAY_MICROS
                        row["occurred_at"] = earlier(row["occurred_at"])
                        row["recorded_at"] = earlier(row["recorded_at"])
                        row["payload_hash"] = eventkinds.payload_hash(row["kind"], row["payload"], row["learner_uid"],
                                                                      row["actor_uid"], row["class_uid"])
                        row["school"], row["received_at"] = school_id, received
                        out.write_row([row[name] for name in order])
                        held.append((row["event_id"], row["payload_hash"]))
                with cursor.copy("COPY event_held_id (event_id, payload_hash) FROM STDIN") as out:
                    for pair in held:
                        out.write_row(pair)
            Origin.insert_many([{"origin": renamed(origin, copy), "hub": registration_id, "hwm": hwm,
                                 "tip": renamed(tip, copy)} for origin, hwm, tip in template["origins"]]).execute()
            Learner.insert_many([{"uid": renamed(uid, copy), "school": school_id}
                                 for uid in template["learners"]]).execute()
            if template["manifests"]:
                HubManifest.insert_many([{"hub": registration_id, "name": name, "key": key}
                                         for name, key in template["manifests"]]).execute()
        # What a sync session leaves on the registration: its counter and contact, what it holds.
        registration = Hub.select(Hub, School).join(School).where(Hub.id == registration_id).get()
        service.take_counter(registration, 1, protocol.VERSION)
        service.hello(registration, {"origins": {renamed(o, copy): hwm for o, hwm, _ in template["origins"]}})
    return len(template["rows"])


def _recompute(registration_id: int) -> tuple[int, int, str | None, dict[str, float]]:
    from sync.district import projections
    from sync.district.models import Hub

    database = _WORKER["database"]
    with database.connection_context():
        done = projections.recompute(Hub.get_by_id(registration_id))
    return done.events, done.missing, done.problem, done.seconds


def _in_workers(function: Any, jobs: list[Any], url: str, workers: int, template: dict[str, Any] | None,
                what: str) -> list[Any]:
    """``function`` over ``jobs`` in ``workers`` processes (each with its own connection), with
    progress on stderr."""
    results = []
    with multiprocessing.get_context("spawn").Pool(workers, _worker_start, (url, template)) as pool:
        for n, result in enumerate(pool.imap_unordered(function, jobs), 1):
            results.append(result)
            if n % max(1, len(jobs) // 10) == 0 or n == len(jobs):
                print(f"  {what}: {n}/{len(jobs)} hubs", file=sys.stderr, flush=True)
    return results


# --- the pages ------------------------------------------------------------------------------------

def signed_in(app: Any, username: str, password: str) -> Any:
    """A test client signed in to the dashboard through its form."""
    client = app.test_client()
    form = client.get("/dashboard/sign-in").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if found is None:
        raise SystemExit("the sign-in page has no CSRF token")
    answer = client.post("/dashboard/sign-in", data={"csrf_token": found.group(1), "username": username,
                                                     "password": password})
    if answer.status_code != 302:
        raise SystemExit(f"{username} could not sign in ({answer.status_code})")
    return client


def _p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank (of 20 requests: the 19th fastest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def time_page(client: Any, path: str, warmups: int, requests: int) -> dict[str, float]:
    """Median and p95 server time of one page, in ms, and its size."""
    for _ in range(warmups):
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code}")
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code}")
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(_p95(times), 1),
            "kb": round(len(answer.get_data()) / 1024, 1)}


def pages_of(school_id: int, registration_id: int, class_uid: str, learner_uid: str) -> list[tuple[str, str, bool]]:
    """(name, path, whether it takes a period) of every dashboard page timed."""
    klass = f"/dashboard/hubs/{registration_id}/classes/{class_uid}"
    return [("home", "/dashboard/", False), ("hubs.csv", "/dashboard/hubs.csv", False),
            ("growth", "/dashboard/growth", True), ("growth.csv", "/dashboard/growth.csv", True),
            ("school growth", f"/dashboard/schools/{school_id}/growth", True),
            ("school growth.csv", f"/dashboard/schools/{school_id}/growth.csv", True),
            ("class", klass, True), ("class growth.csv", f"{klass}/growth.csv", True),
            ("class skills.csv", f"{klass}/skills.csv", True), ("learner", f"{klass}/learners/{learner_uid}", True)]


def average_class() -> tuple[int, int, str, int, str]:
    """(school id, registration id, class uid, learners, first learner's uid) of the class whose
    learners are closest to the average, on a hub in the middle of the list."""
    from peewee import fn

    from sync.district import growth
    from sync.district.models import DistrictClass, Hub

    live = DistrictClass.archived == False  # noqa: E712
    mean = float(DistrictClass.select(fn.AVG(DistrictClass.learners)).where(live).scalar() or 0)
    classes = list(DistrictClass.select(DistrictClass, Hub).join(Hub).where(live)
                   .order_by(DistrictClass.hub, DistrictClass.class_uid))
    middle = classes[len(classes) // 2:] + classes[:len(classes) // 2]
    chosen = min(middle, key=lambda c: abs(c.learners - mean))  # the first of the closest, from the middle on
    (first, _), *_ = growth.learners_of(chosen)
    return int(chosen.hub.school_id), int(chosen.hub_id), chosen.class_uid, int(chosen.learners), first


# --- the run --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 schools, 10 classes of 15 learners, 3 days (~1 min)")
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--classes", type=int, default=1000, help="classes in the district (the demo hub has 2)")
    parser.add_argument("--learners", type=int, default=28, help="learners a class (the demo makes 15)")
    parser.add_argument("--events", type=int, default=10_000_000, help="events to aim at over every hub")
    parser.add_argument("--days", type=int, help="days of practice of the real hub (default: from --events)")
    parser.add_argument("--spread", type=int, default=7, help="copy n moved back n mod (spread + 1) days")
    parser.add_argument("--workers", type=int, default=2, help="processes that copy and recompute")
    parser.add_argument("--requests", type=int, default=20, help="timed requests a page")
    parser.add_argument("--warmups", type=int, default=2, help="requests a page before the timed ones")
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_POSTGRES)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    args = parser.parse_args()
    if args.quick:
        args.schools, args.classes, args.learners, args.days, args.requests = 3, 10, 15, 3, 5

    import logging

    from classroom_server.db import db
    from sync.district import service, staff
    from sync.district.app import create_district_app
    from sync.district.models import DistrictChange, DistrictClass, DistrictClassGrowth, DistrictMastery, Event

    logging.getLogger("classroom_server.district").setLevel(logging.WARNING)
    machine = _machine()
    print(f"machine: {machine['cpus']} CPUs ({machine['cpu']}), {machine['memory_gb']} GB, "
          f"load average {os.getloadavg()[0]:.1f}")
    url, drop = _postgres_database(args.postgres)
    timings: dict[str, float] = {}
    try:
        district = create_district_app(url)
        database = district.extensions["district_database"]
        with database.connection_context():
            schools = [service.add_school(f"School {n:03d}") for n in range(args.schools)]

        with tempfile.TemporaryDirectory(prefix="district-dashboard-") as folder:
            data = Path(folder) / "hub"
            data.mkdir()
            per_hub_classes = 2  # the demo school's
            hubs = math.ceil(args.classes / per_hub_classes)
            if args.days is None:  # every learner answers about STEPS_PER_DAY a day
                args.days = max(1, round(args.events / hubs / (args.learners * per_hub_classes * STEPS_PER_DAY)))
            started = time.perf_counter()
            _, classes, answers = build_hub(data, args.learners, args.days)
            timings["hub_build_s"] = time.perf_counter() - started
            if classes != per_hub_classes:
                raise SystemExit(f"the demo school has {classes} classes, not {per_hub_classes}")
            print(f"real hub: {classes} classes of {args.learners} learners, {args.days} days, {answers:,} answers "
                  f"({timings['hub_build_s']:.1f} s to build)")
            started = time.perf_counter()
            pushed = sync_hub(district, schools[0], "Room 0000")
            timings["hub_sync_s"] = time.perf_counter() - started
            if not db.is_closed():
                db.close()
        print(f"synced it to the district: {pushed:,} events in {timings['hub_sync_s']:.1f} s")

        with database.connection_context():
            (first,) = service.hubs()
            template = template_of(int(first.id))
            jobs = []
            for n in range(1, hubs):
                school = schools[n % len(schools)]
                code = service.register_hub(school, f"Room {n:04d}")[1]
                registration = service.enrol(code, renamed(template["hub_id"], n), f"Room {n:04d}")[0]
                jobs.append((n, int(registration.id), int(school.id), n % (args.spread + 1)))
        started = time.perf_counter()
        copied = sum(_in_workers(_copy_hub, jobs, url, args.workers, template, "copied"))
        timings["copy_s"] = time.perf_counter() - started
        print(f"copied the log to {len(jobs)} more hubs: {copied:,} events by COPY in {timings['copy_s']:.1f} s "
              f"({copied / timings['copy_s']:,.0f} events/s, {args.workers} processes)")

        with database.connection_context():
            ids = [int(h.id) for h in service.hubs()]
        started = time.perf_counter()
        done = _in_workers(_recompute, ids, url, args.workers, None, "recomputed")
        timings["recompute_s"] = time.perf_counter() - started
        folded = sum(d[0] for d in done)
        problems = [d[2] for d in done if d[2] or d[1]]
        if problems:
            raise SystemExit(f"{len(problems)} hubs not recomputed whole: {problems[:3]}")
        parts = {part: sum(d[3][part] for d in done) for part in ("load", "fold", "write")}
        per_million = timings["recompute_s"] / (folded / 1e6)
        print(f"recomputed {len(ids)} hubs ({folded:,} events) in {timings['recompute_s']:.1f} s with {args.workers} "
              f"processes: {per_million:.1f} s a million events (load {parts['load']:.0f} s, fold "
              f"{parts['fold']:.0f} s, write {parts['write']:.0f} s of process time)")

        started = time.perf_counter()
        with database.connection_context():
            database.execute_sql("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - started
        print(f"VACUUM ANALYZE in {timings['vacuum_analyze_s']:.1f} s")

        password = secrets.token_urlsafe(16)
        with database.connection_context():
            school_id, registration_id, class_uid, class_size, learner_uid = average_class()
            staff.add("district", "District office", password, None)
            staff.add("school", "School office", password, service.School.get_by_id(school_id))
        pages = pages_of(school_id, registration_id, class_uid, learner_uid)
        load_before = os.getloadavg()[0]  # other work on the machine moves these times
        results: dict[str, dict[str, dict[str, float]]] = {}
        for account in ("district", "school"):
            client = signed_in(district, account, password)
            for name, path, periods in pages:
                for suffix in ("", "?period=year") if periods else ("",):
                    label = name + (" (year)" if suffix else "")
                    timed = time_page(client, path + suffix, args.warmups, args.requests)
                    results.setdefault(account, {})[label] = timed
            worst = max(results[account].items(), key=lambda item: item[1]["p95_ms"])
            print(f"{account} account: {len(results[account])} pages, {args.requests} requests each; slowest "
                  f"{worst[0]}: median {worst[1]['median_ms']} ms, p95 {worst[1]['p95_ms']} ms")
        for account, timed in results.items():
            for label, numbers in timed.items():
                print(f"  {account:8} {label:26} median {numbers['median_ms']:7.1f} ms  p95 {numbers['p95_ms']:7.1f} ms"
                      f"  {numbers['kb']:8.1f} KB", file=sys.stderr)
        load_after = os.getloadavg()[0]
        print(f"load average {load_before:.1f} before the pages, {load_after:.1f} after")
        missed = sorted({label for timed in results.values() for label, numbers in timed.items()
                         if numbers["median_ms"] > PAGE_AIM_MS})

        with database.connection_context():
            database_bytes = int(database.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0])
            rows = {model.__name__: int(database.execute_sql(f"SELECT count(*) FROM {model._meta.table_name}")
                                        .fetchone()[0])
                    for model in (Event, DistrictMastery, DistrictChange, DistrictClassGrowth, DistrictClass)}
            learners = int(database.execute_sql("SELECT sum(learners) FROM district_class WHERE NOT archived")
                           .fetchone()[0] or 0)
        print(f"database {database_bytes / 1e6:,.0f} MB; rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
        if args.keep:
            print(f"kept: {url}")
    finally:
        from sync.district.models import district_db

        if district_db.obj is not None and not district_db.obj.is_closed():
            district_db.obj.close()
        if not args.keep:
            drop()

    print(json.dumps({
        "machine": machine, "schools": args.schools, "hubs": hubs, "classes": rows["DistrictClass"],
        "learners": learners, "days": args.days, "events_total": rows["Event"], "class_timed": {
            "registration": registration_id, "class_uid": class_uid, "learners": class_size},
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "recompute_s_per_million_events": round(per_million, 1), "copy_events_per_s": round(copied / timings["copy_s"]),
        "database_mb": round(database_bytes / 1e6, 1), "rows": rows, "requests": args.requests,
        "warmups": args.warmups,
        "load_average": [round(load_before, 1), round(load_after, 1)], "pages_ms": results, "aim_ms": PAGE_AIM_MS,
        "over_aim_median": missed,
    }))


if __name__ == "__main__":
    main()
