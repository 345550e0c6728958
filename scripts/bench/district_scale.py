"""What one PostgreSQL node holds: many hubs pushing at once to a real district.

    python scripts/bench/district_scale.py [--quick] [--hubs 1000] [--batches 5] [--events 1000]
        [--servers 2] [--threads 8] [--concurrency 64] [--postgres URL] [--keep]

1. Makes a fresh database on the PostgreSQL server of --postgres (default: the local one) with
   the district's schema (sync/district/models.connect: events partitioned by school).
2. Adds --schools schools and --hubs hub registrations spread over them, and enrols each hub
   with sync.district.service (register_hub, enrol): each has its own id and secret.
3. Builds each hub's log beforehand (not timed), in worker processes: --batches batches of
   --events `attempt` events each (payloads as the hub records them, about 30 learners a hub),
   encoded with sync.protocol.encode_batch as a hub sends them.
4. Starts --servers district servers (the real Flask app under waitress, --threads threads
   each), in their own processes, as behind a load balancer. Then --concurrency client threads
   in this process take the hubs in turn: each hub, with its own kept-alive requests.Session,
   says hello and pushes its batches one after another, every request signed with its secret
   and counter, every answer's signature and acknowledgement checked.
5. Reports the events applied per second at the district (from the first request to the last
   answer), push latency (p50, p95, p99), the database size per million events, and checks that
   the district holds exactly the events sent. The database is dropped afterwards (--keep keeps
   it).

Prints one line per phase and, as its last line, one JSON object with the results.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_database(url: str) -> tuple[str, Any]:
    """A fresh database on the server of ``url``; returns its URL and a function that drops it."""
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(url)
    dsn = (f"host={parsed.hostname or '127.0.0.1'} port={parsed.port or 5432} "
           f"user={parsed.username or 'postgres'} dbname={parsed.path.lstrip('/') or 'postgres'}")
    name = f"district_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    netloc = parsed.netloc or "postgres@127.0.0.1:5432"
    return f"postgresql://{netloc}/{name}", drop


# --- the hubs' logs, built beforehand -------------------------------------------------------------

ITEMS = [(f"fractions-{n:03d}", f"fractions.skill-{n // 20:02d}") for n in range(400)]


def _hub_batches(job: tuple[str, int, int, int]) -> list[bytes]:
    """One hub's log as the batches it pushes: ``batches`` runs of ``events`` attempts."""
    from sync import protocol

    hub_id, seed, batches, events = job
    rng = random.Random(seed)
    origin = f"{hub_id}.1"
    learners = [uuid.UUID(int=rng.getrandbits(128)).hex[:16] for _ in range(30)]
    classes = [uuid.UUID(int=rng.getrandbits(128)).hex[:16] for _ in range(2)]
    clock = 1_772_000_000_000 * 1000  # hlc: milliseconds x 1000 plus a counter
    out = []
    seq = 0
    for _ in range(batches):
        rows = []
        for _ in range(events):
            seq += 1
            clock += rng.randint(200, 9000) * 1000
            learner = rng.randrange(len(learners))
            item, skill = rng.choice(ITEMS)
            correct = rng.random() < 0.7
            payload = {"pack": "fractions", "version": "1.4.0", "item": item, "skill": skill,
                       "response": {"value": str(rng.randint(1, 99)) if not correct else "3/4"},
                       "correct": correct, "hints_used": rng.choice((0, 0, 0, 1)),
                       "duration_ms": rng.randint(2500, 60000), "mode": "practice", "lang": "en"}
            when = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(clock // 1_000_000))
            rows.append({"event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "seq": seq,
                         "kind": "attempt", "learner_uid": learners[learner], "actor_uid": learners[learner],
                         "class_uid": classes[learner % 2], "hlc": clock, "occurred_at": when, "recorded_at": when,
                         "payload": json.dumps(payload, sort_keys=True, separators=(",", ":"))})
        out.append(protocol.encode_batch(origin, rows))
    return out


# --- the district servers ------------------------------------------------------------------------

def _serve(url: str, port: int, threads: int) -> None:
    import logging

    from waitress import serve

    from sync.district.app import create_district_app

    logging.getLogger("classroom_server.district").setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a queue is what this measures
    serve(create_district_app(url), host="127.0.0.1", port=port, threads=threads, connection_limit=1000,
          backlog=2048, _quiet=True)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base: str, deadline: float) -> None:
    import requests

    while True:
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise SystemExit(f"the district at {base} did not start") from None
        time.sleep(0.05)  # polling a starting server, not waiting for a guess


# --- one hub's sync --------------------------------------------------------------------------------

class Hub:
    def __init__(self, hub_id: str, secret: str, base: str, batches: list[bytes]) -> None:
        import requests

        self.hub_id, self.secret, self.base, self.batches = hub_id, secret, base, batches
        self.session = requests.Session()
        self.counter = 0

    def call(self, message: str, body: bytes) -> tuple[int, bytes]:
        from sync import protocol

        self.counter += 1
        path = protocol.PREFIX + message
        headers = protocol.sign_request(self.secret, "POST", path, body, self.hub_id, self.counter)
        answer = self.session.post(self.base + path, data=body, timeout=120,
                                   headers={"Content-Type": "application/octet-stream", **headers})
        if not protocol.response_signed_by(self.secret, self.counter, answer.status_code, answer.content,
                                           answer.headers.get("X-Sync-Signature")):
            raise RuntimeError(f"{self.hub_id}: an answer not signed by the district ({answer.status_code})")
        return answer.status_code, answer.content

    def sync(self, latencies: list[float]) -> int:
        from sync import protocol

        status, body = self.call("hello", protocol.encode_json({"origins": {f"{self.hub_id}.1": 0}}))
        if status != 200:
            raise RuntimeError(f"{self.hub_id}: hello answered {status}: {body[:200]!r}")
        pushed = 0
        for batch in self.batches:
            started = time.perf_counter()
            status, body = self.call("push", batch)
            latencies.append(time.perf_counter() - started)
            _, first, events = protocol.decode_batch(batch)
            acked = protocol.decode_json(body).get("acked_through")
            if status != 200 or acked != first + len(events) - 1:
                raise RuntimeError(f"{self.hub_id}: push answered {status}: {body[:200]!r}")
            pushed += len(events)
        self.session.close()
        return pushed


def compare_inserts(url: str, batches: int = 10, size: int = 1000) -> dict[str, float]:
    """Rows a second stored by each way of inserting a push's events, each batch in its own
    transaction on the partitioned table: peewee's insert_many (what the district used), one
    multi-row INSERT ... ON CONFLICT DO NOTHING, COPY into a temporary table then INSERT ...
    SELECT ... ON CONFLICT DO NOTHING, and COPY straight into the table (what it uses now)."""
    from sync import protocol
    from sync.district import service
    from sync.district.models import Event, connect

    database = connect(url)
    columns = service._EVENT_COLUMNS
    names = ", ".join(columns)

    def insert_many(rows: list[dict[str, Any]]) -> None:
        Event.insert_many(rows).execute()

    def values_on_conflict(rows: list[dict[str, Any]]) -> None:
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        database.execute_sql(f"INSERT INTO event ({names}) VALUES {', '.join([one] * len(rows))} "
                             "ON CONFLICT DO NOTHING", [row[c] for row in rows for c in columns])

    def copy_temp_then_insert(rows: list[dict[str, Any]]) -> None:
        with database.connection().cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS event_in (LIKE event_p00 INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
            with cursor.copy(f"COPY event_in ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            cursor.execute(f"INSERT INTO event ({names}) SELECT {names} FROM event_in ON CONFLICT DO NOTHING")

    def copy(rows: list[dict[str, Any]]) -> None:
        service._insert_events(rows)

    rates: dict[str, list[float]] = {}
    with database.connection_context():
        for round_ in range(batches):
            for n, way in enumerate((insert_many, values_on_conflict, copy_temp_then_insert, copy)):
                hub = f"cmp{round_}{way.__name__}"
                _, _, events = protocol.decode_batch(_hub_batches((hub, round_ * 4 + n, 1, size))[0])
                rows = [{**e.as_row(), "payload_hash": e.payload_hash, "school": round_ % 7 + 1,
                         "received_at": "2026-03-02T10:00:00+00:00"} for e in events]
                started = time.perf_counter()
                with database.atomic():
                    way(rows)
                rates.setdefault(way.__name__, []).append(size / (time.perf_counter() - started))
    database.close()
    return {way: round(statistics.median(r)) for way, r in rates.items()}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory_gb = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1)
    except OSError:
        memory_gb = None
    return {"cpus": os.cpu_count(), "cpu": model, "memory_gb": memory_gb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 hubs, one batch of 100 events each (< 1 min)")
    parser.add_argument("--hubs", type=int, default=1000)
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--batches", type=int, default=5, help="batches each hub pushes")
    parser.add_argument("--events", type=int, default=1000, help="events a batch (a hub's batch sizer "
                        "reaches 1,000 to 4,000 attempts at its 32 to 256 KB)")
    parser.add_argument("--servers", type=int, default=2, help="district server processes")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads a server")
    parser.add_argument("--concurrency", type=int, default=64, help="hubs pushing at the same moment")
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_POSTGRES)
    parser.add_argument("--compare-inserts", action="store_true",
                        help="only compare the ways of inserting a batch of 1,000 events, and stop")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.events = 1, 100

    from sync.district import service
    from sync.district.models import connect, district_db

    machine = _machine()
    print(f"machine: {machine['cpus']} CPUs ({machine['cpu']}), {machine['memory_gb']} GB")
    url, drop = _postgres_database(args.postgres)
    servers: list[Any] = []  # the district server processes
    if args.compare_inserts:
        try:
            rates = compare_inserts(url)
        finally:
            drop()
        for way, rate in rates.items():
            print(f"{way}: {rate:,} rows/s")
        print(json.dumps({"machine": machine, "rows_per_s": rates}))
        return
    try:
        started = time.perf_counter()
        database = connect(url)
        credentials = []
        with database.connection_context():
            schools = [service.add_school(f"School {n:04d}") for n in range(args.schools)]
            for n in range(args.hubs):
                code = service.register_hub(schools[n % len(schools)], f"Hub {n:05d}")[1]
                hub_id = f"hub{n:05d}-{uuid.uuid4().hex[:8]}"
                credentials.append((hub_id, service.enrol(code, hub_id, f"Hub {n:05d}")[1]))
        database.close()
        print(f"enrolled {args.hubs} hubs in {args.schools} schools in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        jobs = [(hub_id, n, args.batches, args.events) for n, (hub_id, _) in enumerate(credentials)]
        with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
            logs = pool.map(_hub_batches, jobs, chunksize=8)
        sent_bytes = sum(len(b) for log in logs for b in log)
        total = args.hubs * args.batches * args.events
        print(f"built {total:,} events in {args.hubs * args.batches:,} batches ({sent_bytes / 1e6:.1f} MB "
              f"compressed) in {time.perf_counter() - started:.1f} s")

        bases = []
        context = multiprocessing.get_context("spawn")
        for _ in range(args.servers):
            port = _free_port()
            process = context.Process(target=_serve, args=(url, port, args.threads), daemon=True)
            process.start()
            servers.append(process)
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            _wait_until_up(base, time.monotonic() + 60)

        hubs = [Hub(hub_id, secret, bases[n % len(bases)], logs[n]) for n, (hub_id, secret) in enumerate(credentials)]
        latencies: list[float] = []
        lock = threading.Lock()

        def one(hub: Hub) -> int:
            mine: list[float] = []
            pushed = hub.sync(mine)
            with lock:
                latencies.extend(mine)
            return pushed

        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as clients:
            pushed = sum(clients.map(one, hubs))
        seconds = time.perf_counter() - started
        rate = pushed / seconds
        print(f"pushed {pushed:,} events from {args.hubs} hubs ({args.concurrency} at a time, {args.servers} "
              f"servers x {args.threads} threads) in {seconds:.1f} s: {rate:,.0f} events/s applied")
        p50, p95, p99 = (_percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99))
        print(f"push latency ({args.events} events a batch): p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms")

        database = connect(url)
        with database.connection_context():
            held = int(database.execute_sql("SELECT count(*) FROM event").fetchone()[0])
            per_school = database.execute_sql(
                "SELECT min(c), max(c) FROM (SELECT count(*) c FROM event GROUP BY tableoid) p").fetchone()
            event_bytes = int(database.execute_sql(
                "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('event')").fetchone()[0])
            held_id_bytes = int(database.execute_sql(
                "SELECT pg_total_relation_size('event_held_id')").fetchone()[0])
            event_bytes += held_id_bytes  # the events' table of ids is part of what an event costs
            database_bytes = int(database.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0])
            quarantined = service.counts()["quarantined"]
        database.close()
        district_db.initialize(None)
        if held != total or pushed != total or quarantined:
            raise SystemExit(f"the district holds {held:,} events of {total:,} sent, {quarantined} in quarantine")
        mb_per_million = event_bytes / 1e6 / (held / 1e6)
        print(f"held {held:,} events, exactly those sent; event tables {event_bytes / 1e6:.0f} MB "
              f"(of which the held ids {held_id_bytes / 1e6:.0f} MB; {mb_per_million:.0f} MB a million events, "
              f"indexes included; partitions hold {per_school[0]:,} "
              f"to {per_school[1]:,}); database {database_bytes / 1e6:.0f} MB")
        if args.keep:
            print(f"kept: {url}")
    finally:
        for process in servers:
            process.terminate()
        for process in servers:
            process.join(10)
        if not args.keep:
            drop()

    print(json.dumps({
        "machine": machine, "hubs": args.hubs, "schools": args.schools, "batches_per_hub": args.batches,
        "events_per_batch": args.events, "servers": args.servers, "threads": args.threads,
        "concurrency": args.concurrency, "events_total": held, "seconds": round(seconds, 2),
        "district_events_per_s": round(rate), "push_p50_ms": round(p50, 1), "push_p95_ms": round(p95, 1),
        "push_p99_ms": round(p99, 1), "event_table_mb_per_million": round(mb_per_million, 1),
        "held_id_table_mb": round(held_id_bytes / 1e6, 1),
        "database_mb": round(database_bytes / 1e6, 1), "compressed_mb_sent": round(sent_bytes / 1e6, 1),
    }))


if __name__ == "__main__":
    main()
