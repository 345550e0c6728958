"""District sync, measured over real HTTP: bytes per attempt, an empty sync, a slow link, the
district's apply rate on PostgreSQL, and how much a sync in progress slows learners' answers.

    python scripts/bench/sync.py [--quick] [--attempts 100000] [--district-db URL]
                                 [--via-proxy HOST:PORT --district-port PORT]

What it does:
1. Builds a hub in a temporary directory (``classroom-server init``, the bundled packs, 2 classes of
   30 learners) and lets its learners practise through the hub's own services and learning engine
   until the log holds --attempts answers (see ``build_hub``): real items, real responses, the
   engine's own path, the events of a class interleaved in time as in a classroom. The hub's
   database is copied before any sync, so every part below starts from the same unsynced hub.
2. Full push (loopback): a district (``sync.district.app`` under waitress, on a fresh PostgreSQL
   database) listens on 127.0.0.1; the hub enrols and syncs through
   ``sync.transport.HttpTransport``, through a TCP relay in this script that counts every byte
   each way (HTTP headers and bodies: TCP payload). ``bytes_per_attempt`` is every byte of the
   full push requests and their answers (all but the last push, which holds the remainder),
   both ways, divided by the attempt events they carried.
3. Empty sync: the same hub syncs again with nothing to do; requests and bytes both ways.
4. District apply rate: the push bodies of step 2 are applied again with ``service.push`` in
   this process to another fresh PostgreSQL database (decoding, checking every event against its
   kind's rules, inserting, committing), without HTTP: events per second by the clock, and the
   CPU time of the applying thread (the district's own Python; PostgreSQL works in its own
   process). --apply-runs times (default 3), each on a fresh database; the median run is
   reported (``district_events_per_s``), with every run's rate.
5. Answers during a sync: a copy of the hub is served by waitress in a child process (pinned to
   one CPU when there are two or more; this script, the district and its clients on the others),
   learners of a PIN class sign in and answer items through the real pages with a think time,
   and after a baseline the hub's own process syncs its whole backlog to a fresh district in a
   thread. The answer POST latency at p95 while the sync runs is compared with the baseline
   before and after it: ``answer_p95_slowdown`` = p95 during / p95 baseline - 1, as the learners'
   side sees it (the time of the whole HTTP request). ``answer_p95_slowdown_in_hub`` is the same
   comparison of the time the hub took over each answer (its WSGI app called to answered, in the
   hub's process): on a machine of two CPUs the learners' side shares its CPU with the district
   and PostgreSQL, which apply the push as it comes, where a school's district is elsewhere.
6. Slow link (only with --via-proxy): the district listens on 127.0.0.1:--district-port, and the
   hub reaches it through HOST:PORT, a TCP relay that crosses an emulated link set up outside
   this script (e.g. 50 kbit/s each way, 150 ms delay each way, 5 % loss). The hub pushes its
   whole backlog; a sync cut by the link is started again at once, as the hub's next sync
   would, and the time counts until the district holds everything.

--quick makes fewer attempts, shortens the baseline, and skips the slow link (reported as null
and named in "skipped"); it finishes within a minute. PostgreSQL is reached at --district-db
(a database URL of a server where this script may create and drop its own databases; default
postgresql://postgres@127.0.0.1:5432/postgres); if it cannot be reached the district runs on
SQLite and the JSON says so. Only 127.0.0.1 and the given proxy are contacted. The last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HOST = "127.0.0.1"
LANG = "en"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def say(message: str) -> None:
    print(message, flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ----------------------------------------------------------------------------- the hub

@dataclass
class Hub:
    data: Path
    attempts: int
    events: int
    learners: list[dict[str, Any]]  # {"class": id, "id": id, "uid": uid, "pin": "1234"} of the PIN classes


def build_hub(data: Path, attempts: int, *, classes: int = 2, class_size: int = 30, seed: int = 2026,
              log: Callable[[str], None] = print) -> Hub:
    """A hub with a school (``classes`` classes of ``class_size`` learners, the bundled packs) and
    ``attempts`` answers, made by the hub's own learning engine and practice services.

    Each school day every class has one session; its learners sign in at the start, then follow
    their own path as the engine offers it (practice, checks, reviews, a lesson or worked example
    now and then, a break after the session's items), all at once, so their events interleave in
    the log as in a real classroom. A learner answers right with a chance that grows with their
    hidden ability and practice (as in the demo), takes a log-normal time per item (median 20 s),
    and reads the feedback for a few seconds. The clock is set to past school days."""
    from click.testing import CliRunner

    from classroom_server import clock, event_ids
    from classroom_server.app import create_app
    from classroom_server.cli import main as cli
    from classroom_server.db import db
    from classroom_server.demo import FIRST_NAMES, install_bundled_packs
    from classroom_server.demo_practice import right_form, wrong_form
    from classroom_server.models import Classroom, InstalledPack, Person
    from classroom_server.services import accounts, courses, events, practice, security
    from classroom_server.web.practice import decode_answer

    rng = random.Random(seed)
    sessions_needed = attempts / (class_size * 12) + 2
    days = math.ceil(sessions_needed / classes)
    start = (clock.now() - dt.timedelta(days=days + 1)).replace(hour=8, minute=0, second=0, microsecond=0)
    data.parent.mkdir(parents=True, exist_ok=True)
    with clock.pretend(start):
        done = CliRunner().invoke(cli, ["init", "--data", str(data), "--admin-password", "bench-admin-password"])
        assert done.exit_code == 0, done.output
        app = create_app(data, {"log_level": "warning"})
        install_bundled_packs(data)
    engine = app.extensions["engine"]
    learners: list[dict[str, Any]] = []
    people: list[tuple[Classroom, list[Person]]] = []
    with db.connection_context(), clock.pretend(start + dt.timedelta(minutes=5)):
        admin = Person.get(Person.username == "admin")
        for k in range(classes):
            kind = "pin" if k % 2 == 0 else "picture"
            teacher = accounts.create_staff("teacher", f"teacher{k}", f"Teacher {k}", "bench-teacher-pw", admin)
            classroom = accounts.create_class(f"Class {k + 1}", kind, [teacher.id], admin)
            # A class studies its courses only (a class with none is offered nothing): every bundled pack.
            courses.set_courses(admin, classroom, [courses.Course(row.pack_id) for row in InstalledPack.select()
                                                   .where(InstalledPack.status == "active")
                                                   .order_by(InstalledPack.pack_id)])
            members = []
            for n in range(class_size):
                if kind == "pin":
                    secret: Any = f"{rng.randrange(10000):04d}"
                else:
                    secret = [rng.choice(security.PICTURES) for _ in range(security.PICTURE_COUNT)]
                name = f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {k}{n}"
                learner = accounts.create_learner(classroom, name, rng.choice(accounts.AVATAR_COLOURS), secret, teacher)
                members.append(learner)
                if kind == "pin":
                    learners.append({"class": classroom.id, "id": learner.id, "uid": learner.uid, "pin": secret})
            people.append((classroom, members))
    loaded = engine.catalogue_store.get()
    ability = {p.uid: rng.gauss(0.3, 0.9) for _, members in people for p in members}
    # Each learner answers on a device of their own, whose page script makes the answer's id
    # (static/practice.js: the device's prefix and a counter, classroom_server/event_ids.py);
    # the hub makes the ids of everything else.
    devices = {p.uid: event_ids.IdSource() for _, members in people for p in members}
    made = 0
    day = 0
    with db.connection_context():
        while made < attempts:
            today = start + dt.timedelta(days=day)
            day += 1
            for k, (classroom, members) in enumerate(people):
                if made >= attempts:
                    break
                begin = today + dt.timedelta(hours=1, minutes=55 * k)
                # (when, learner index, items done in the session; -1: not signed in yet)
                queue: list[tuple[dt.datetime, int, int]] = [
                    (begin + dt.timedelta(seconds=rng.uniform(0, 150)), n, -1)
                    for n in range(len(members)) if rng.random() > 0.08]  # some are absent
                heapq.heapify(queue)
                with db.atomic():  # one commit per class session: the history is written quickly
                    while queue and made < attempts:
                        moment, n, step = heapq.heappop(queue)
                        learner = members[n]
                        with clock.pretend(moment):
                            if step < 0:
                                events.record("learner.signed_in", {"method": classroom.login_kind},
                                              learner_uid=learner.uid, class_uid=classroom.uid, actor_uid=learner.uid)
                                heapq.heappush(queue, (moment + dt.timedelta(seconds=rng.uniform(3, 20)), n, 0))
                                continue
                            choices = practice.path_for(engine, learner, LANG, items_done_in_session=step)
                            choice = choices[0] if choices else None
                            if choice is None or choice.kind == "break" or choice.pack_id is None:
                                continue
                            pack_id = choice.pack_id
                            if choice.kind == "lesson" and choice.resource_id:
                                resource = practice.find_resource(loaded, pack_id, choice.resource_id)[1]
                                practice.record_learning_step(engine, learner, "lesson_viewed", {
                                    "pack": pack_id, "resource": resource.id, "skill": choice.skill_id,
                                    "modality": practice.KIND_TO_MODALITY.get(resource.kind, "text")})
                                heapq.heappush(queue, (moment + dt.timedelta(seconds=rng.uniform(40, 200)), n, step))
                                continue
                            if choice.kind == "worked_example" or not choice.item_id:
                                practice.record_learning_step(engine, learner, "worked_example_viewed", {
                                    "pack": pack_id, "item": choice.item_id, "skill": choice.skill_id})
                                heapq.heappush(queue, (moment + dt.timedelta(seconds=rng.uniform(20, 90)), n, step))
                                continue
                            item = loaded.catalogue.item(pack_id, choice.item_id)
                            assert engine.state is not None
                            tries = engine.state.peek(learner.uid, practice.qualify(pack_id, item.skill)).attempts
                            chance = 1 / (1 + math.exp(-(ability[learner.uid] + 0.25 * tries - (item.difficulty or 0))))
                            right = rng.random() < chance
                            form = right_form(item, LANG) if right else wrong_form(item, LANG, rng)
                            duration = min(300_000, max(2_000, int(rng.lognormvariate(math.log(20_000), 0.6))))
                            practice.record_attempt(engine, learner, pack_id, choice.item_id, decode_answer(item, form),
                                                    event_id=devices[learner.uid].new(), hints_used=0 if right or rng.random() < 0.8 else 1,
                                                    duration_ms=duration, lang=LANG, mode=choice.kind)
                            made += 1
                        later = moment + dt.timedelta(milliseconds=duration + rng.uniform(1500, 6000))
                        heapq.heappush(queue, (later, n, step + 1))
            if day % 10 == 0:
                log(f"{made} attempts made")
        total = db.execute_sql("SELECT COUNT(*) FROM event").fetchone()[0]
        made = db.execute_sql("SELECT COUNT(*) FROM event WHERE kind = 'attempt'").fetchone()[0]
    db.close()
    return Hub(data, made, total, learners)


def open_hub(data: Path) -> None:
    """Point this process's hub database at ``data`` (for the hub's sync store)."""
    from classroom_server import db as database

    database.configure(database.database_path(data))


def copy_hub(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest)
    return dest


# ----------------------------------------------------------------------------- counting relay

class Relay:
    """A TCP relay on 127.0.0.1 that forwards to ``upstream`` and counts the bytes each way
    (TCP payload: HTTP request and status lines, headers and bodies)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.lock = threading.Lock()
        self.up = 0
        self.down = 0
        self.connections = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(16)
        self.port = int(self.listener.getsockname()[1])
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return self.up, self.down

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
                self._open += [client, server]
            threading.Thread(target=self._pump, args=(client, server, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, "down"), daemon=True).start()

    def _pump(self, source: socket.socket, dest: socket.socket, direction: str) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                with self.lock:  # counted before it is passed on: complete once the answer is read
                    if direction == "up":
                        self.up += len(chunk)
                    else:
                        self.down += len(chunk)
                dest.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, dest):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            for sock in self._open:
                try:
                    sock.close()
                except OSError:
                    pass


@dataclass
class Post:
    path: str
    body_bytes: int
    up: int
    down: int
    seconds: float
    status: int
    body: bytes | None = None


class CountingTransport:
    """The hub's HTTP transport, noting each request's bytes on the wire (from the relay)."""

    def __init__(self, relay: Relay, base_url: str | None = None, keep_push_bodies: bool = False) -> None:
        from sync.transport import HttpTransport

        self.relay = relay
        self.inner = HttpTransport(base_url or f"http://{HOST}:{relay.port}")
        self.keep = keep_push_bodies
        self.posts: list[Post] = []
        self.failed: list[dict[str, Any]] = []  # requests that got no answer

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Any:
        up, down = self.relay.counts()
        started = time.monotonic()
        try:
            answer = self.inner.post(path, body, headers, timeout)
        except OSError as exc:
            self.failed.append({"path": path.rsplit("/", 1)[1], "body_bytes": len(body),
                                "after_s": round(time.monotonic() - started, 1), "error": str(exc)[:200]})
            raise
        seconds = time.monotonic() - started
        up2, down2 = self.relay.counts()
        self.posts.append(Post(path, len(body), up2 - up, down2 - down, seconds, answer.status,
                               body if self.keep and path.endswith("/push") else None))
        return answer

    def close(self) -> None:
        self.inner.close()


# ----------------------------------------------------------------------------- the district

class Databases:
    """Fresh district databases on one PostgreSQL server (created here, dropped at the end), or
    SQLite files when the server cannot be reached."""

    def __init__(self, url: str, tmp: Path) -> None:
        from urllib.parse import urlparse

        self.tmp = tmp
        self.created: list[str] = []
        self.problem: str | None = None
        parsed = urlparse(url)
        self.admin = parsed
        self.kind = "postgresql"
        try:
            self._admin_conn().close()
        except Exception as exc:  # no driver, no server, no role: say why, use SQLite
            self.kind = "sqlite"
            self.problem = f"PostgreSQL not reachable ({str(exc).strip()[:120]}); the district ran on SQLite"

    def _admin_conn(self) -> Any:
        import psycopg

        p = self.admin
        return psycopg.connect(host=p.hostname or HOST, port=p.port or 5432, user=p.username or None,
                               password=p.password or None, dbname=p.path.lstrip("/") or "postgres",
                               autocommit=True, connect_timeout=5)

    def fresh(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / f'district-{uuid.uuid4().hex[:8]}.sqlite3'}"
        name = f"bench_sync_{uuid.uuid4().hex[:12]}"
        with self._admin_conn() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        p = self.admin
        auth = p.username or ""
        if p.password:
            auth += f":{p.password}"
        return f"postgresql://{auth}{'@' if auth else ''}{p.hostname or HOST}:{p.port or 5432}/{name}"

    def drop_all(self) -> None:
        if not self.created:
            return
        with self._admin_conn() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SERVE_DISTRICT = """
import sys
from waitress import serve
from sync.district.app import create_district_app
url, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
serve(create_district_app(url), host=host, port=port, threads=4, ident="district", _quiet=True)
"""


class District:
    """The district server (waitress) in a child process, and its staff work done from here."""

    def __init__(self, url: str, port: int, log_file: Path, cpus: set[int] | None = None) -> None:
        self.url = url
        self.port = port
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with open(log_file, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVE_DISTRICT, url, HOST, str(port)], stdout=log, stderr=subprocess.STDOUT,
                env=env, preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        wait_for(f"http://{HOST}:{port}/healthz", self.process, log_file)

    def register(self, school: str = "Hillside Primary", hub_name: str = "Room 4") -> str:
        """A school and a hub registration at the district; returns the one-time code."""
        from sync.district import service
        from sync.district.models import connect

        database = connect(self.url)
        try:
            with database.connection_context():
                try:
                    found = service.school_named(school)
                except ValueError:
                    found = service.add_school(school)
                return service.register_hub(found, hub_name)[1]
        finally:
            database.close()

    def event_count(self) -> int:
        from sync.district import service
        from sync.district.models import connect

        database = connect(self.url)
        try:
            with database.connection_context():
                return int(service.counts()["events"])
        finally:
            database.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for(url: str, process: subprocess.Popen, log_file: Path, seconds: float = 30) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited during start:\n{log_file.read_text()[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def enrol(data: Path, district: District, transport: Any, district_url: str) -> None:
    from classroom_server.db import db
    from classroom_server.services import sync as hub_sync

    code = district.register()
    open_hub(data)
    with db.connection_context():
        hub_sync.enrol(transport, district_url, code, "Room 4")
    db.close()


def sync_until_done(data: Path, transport: Any, *, limit_seconds: float = 7200) -> dict[str, Any]:
    """Sync the hub at ``data`` until the district holds everything; a sync cut short is
    started again at once, as the hub's next sync would be. Returns what it took."""
    from classroom_server.db import db
    from classroom_server.services import sync as hub_sync
    from sync.client import SyncError

    open_hub(data)
    started = time.monotonic()
    failures: list[str] = []
    with db.connection_context():
        while True:
            try:
                outcome = hub_sync.run(transport)
            except SyncError as exc:
                failures.append(str(exc))
                if not exc.retry or time.monotonic() - started > limit_seconds:
                    raise
                continue
            if outcome.waiting == 0:
                break
    db.close()
    return {"seconds": time.monotonic() - started, "failed_syncs": len(failures), "failures": failures[:5]}


def push_stats(posts: list[Post]) -> dict[str, Any]:
    """Bytes per event and per attempt of the full push requests (all but the last push)."""
    from sync import protocol

    pushes = [p for p in posts if p.path.endswith("/push") and p.body is not None]
    full = pushes[:-1] if len(pushes) > 1 else pushes
    counted = []  # (post, events, attempts)
    for post in full:
        assert post.body is not None
        _, _, batch = protocol.decode_batch(post.body)
        counted.append((post, len(batch), sum(1 for e in batch if e.kind == "attempt")))
    events = sum(n for _, n, _ in counted)
    attempts = sum(a for _, _, a in counted)
    wire = sum(p.up + p.down for p in full)
    body = sum(p.body_bytes for p in full)
    result = {"full_batches": len(full), "events_in_full_batches": events,
              "events_per_full_batch": round(events / max(1, len(full))),
              "bytes_per_attempt": round(wire / max(1, attempts), 1),
              "bytes_per_event": round(wire / max(1, events), 1),
              "body_bytes_per_event": round(body / max(1, events), 1)}
    largest = max((n for _, n, _ in counted), default=0)
    at_cap = [(p, n, a) for p, n, a in counted if n == largest]
    if largest and len(at_cap) < len(counted):  # the batches after the size grew to its largest
        result.update(events_per_largest_batch=largest, largest_batches=len(at_cap),
                      bytes_per_attempt_largest_batches=round(
                          sum(p.up + p.down for p, _, _ in at_cap) / max(1, sum(a for _, _, a in at_cap)), 1))
    return result


def apply_rate(url: str, bodies: list[bytes]) -> dict[str, Any]:
    """Apply push bodies with the district's own ``service.push`` in this process: events/s by
    the clock, and the CPU time of this thread (the district's Python; PostgreSQL's own work is
    in its server process, and only in the clock time)."""
    from sync import protocol
    from sync.district import service
    from sync.district.models import Hub as Registration
    from sync.district.models import connect

    origin = protocol.decode_batch(bodies[0])[0]
    database = connect(url)
    try:
        with database.connection_context():
            school = service.add_school("Apply Rate School")
            registration, code = service.register_hub(school, "Room 4")
            service.enrol(code, origin.partition(".")[0], "Room 4")
            registration = Registration.get_by_id(registration.id)
            events = 0
            started, cpu = time.perf_counter(), time.thread_time()
            for body in bodies:
                result = service.push(registration, body)
                events = result.acked_through
            seconds, cpu = time.perf_counter() - started, time.thread_time() - cpu
            held = service.counts()["events"]
    finally:
        database.close()
    return {"events": events, "held": held, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "events_per_s": round(events / seconds) if seconds else None}


def apply_runs(databases: Databases, bodies: list[bytes], runs: int) -> dict[str, Any]:
    """``apply_rate`` ``runs`` times, each to a fresh database: the median run, and every run's rate."""
    done = [apply_rate(databases.fresh(), bodies) for _ in range(max(1, runs))]
    median = sorted(done, key=lambda run: run["seconds"])[len(done) // 2]
    return {**median, "runs": [run["events_per_s"] for run in done],
            "cpu_us_per_event": round(median["cpu_seconds"] * 1e6 / max(1, median["events"]), 1)}


# ----------------------------------------------------------------------------- answers during a sync

def serve_hub(data: Path, port: int, district_url: str) -> None:
    """Child process: serve the hub with waitress; on "sync" from stdin, sync in a thread of
    this process (as a job of the hub would), and print when it began and ended."""
    from waitress.server import create_server

    from classroom_server.app import create_app
    from classroom_server.db import db
    from classroom_server.services import sync as hub_sync
    from sync.transport import HttpTransport

    app = create_app(data, {"log_level": "warning"})
    with db.connection_context():  # the learning engine reads the whole log once, before any learner
        app.extensions["engine"].catch_up()
    handled: list[tuple[float, float]] = []  # (start, seconds) of each answer POST, in the hub
    inner = app.wsgi_app

    def timed(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] != "POST" or not environ["PATH_INFO"].startswith("/learn/item/"):
            return inner(environ, start_response)
        started = time.monotonic()
        try:
            return inner(environ, start_response)
        finally:
            handled.append((started, time.monotonic() - started))

    app.wsgi_app = timed  # type: ignore[method-assign]
    server = create_server(app, host=HOST, port=port, threads=app.config["SETTINGS"]["threads"],
                           ident="classroom-server")

    def control() -> None:
        for line in sys.stdin:
            if line.strip() == "timings":
                print(json.dumps(handled), flush=True)
                continue
            if line.strip() != "sync":
                break
            transport = HttpTransport(district_url)
            started = time.monotonic()
            try:
                with db.connection_context():
                    outcome = hub_sync.run(transport)
                report: dict[str, Any] = {"pushed": outcome.pushed, "requests": outcome.requests}
            except Exception as exc:  # reported to the parent, which fails the run
                report = {"error": f"{type(exc).__name__}: {exc}"}
            report.update(start=started, end=time.monotonic())
            print(json.dumps(report), flush=True)
        server.close()

    threading.Thread(target=control, daemon=True).start()
    print("READY", flush=True)
    try:
        server.run()
    except (OSError, ValueError):  # closed from the control thread
        pass


class Answering:
    """Learners answering items through the hub's real pages, each in a thread with its own
    session: my path, its first item, think, the answer POST (timed), think."""

    def __init__(self, port: int, learners: list[dict[str, Any]], data: Path, think: tuple[float, float],
                 seed: int) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from answers import AnswerBook

        self.port = port
        self.learners = learners
        self.book = AnswerBook(data)
        self.think = think
        self.seed = seed
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples: list[tuple[float, float]] = []  # (start, seconds) of each answer POST with a 200
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(n, who), daemon=True)
                        for n, who in enumerate(learners)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _pause(self, rng: random.Random) -> None:
        self.stop.wait(rng.uniform(*self.think))

    def _run(self, n: int, who: dict[str, Any]) -> None:
        import html

        import requests
        from answers import Page

        rng = random.Random(self.seed * 1000 + n)
        self._pause(rng)  # the class arrives over a few seconds, not at one instant
        base = f"http://{HOST}:{self.port}"
        session = requests.Session()
        session.headers["User-Agent"] = "classroom-bench/1"

        def get(path: str) -> Any:
            return session.get(base + path, allow_redirects=False, timeout=30)

        signed_in = False
        while not self.stop.is_set():
            try:
                if not signed_in:
                    session.cookies.clear()
                    path = f"/login/learner/{who['class']}/{who['id']}"
                    page = Page(get(path).text)
                    done = session.post(base + path, data={"csrf_token": page.csrf(), "pin": who["pin"]},
                                        allow_redirects=False, timeout=30)
                    if done.status_code != 302:
                        raise RuntimeError(f"sign-in answered {done.status_code}")
                    signed_in = True
                home = Page(get("/learn/").text)
                items = [h for h in home.path_links if h.startswith("/learn/item/")]
                if not items:  # a break, or only a lesson: sign out and in again
                    session.post(base + "/logout", data={"csrf_token": home.csrf()}, allow_redirects=False,
                                 timeout=30)
                    signed_in = False
                    self._pause(rng)
                    continue
                link = items[0]
                pack_id, item_id = link.split("?")[0].split("/")[3:5]
                page = Page(get(link).text)
                form = page.form(id="item-form")
                if form is None:
                    raise RuntimeError(f"no answer form on {link}")
                fields = list(form["hidden"]) + self.book.answer(pack_id, item_id, rng.random() < 0.7, rng)
                self._pause(rng)
                if self.stop.is_set():
                    break
                started = time.monotonic()
                answer = session.post(base + html.unescape(form["action"]), data=fields, allow_redirects=False,
                                      headers={"Accept": "text/html"}, timeout=30)
                seconds = time.monotonic() - started
                if answer.status_code != 200:
                    raise RuntimeError(f"answer POST answered {answer.status_code}")
                with self.lock:
                    self.samples.append((started, seconds))
                self._pause(rng)
            except Exception as exc:  # noqa: BLE001 - counted; the learner signs in again
                with self.lock:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                signed_in = False
                self.stop.wait(0.5)


def answers_during_sync(hub: Path, learners: list[dict[str, Any]], databases: Databases, tmp: Path,
                        baseline: float, think: tuple[float, float], seed: int) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    pinned = len(cpus) >= 2
    hub_cpus = {cpus[0]} if pinned else None
    other_cpus = set(cpus[1:]) if pinned else None
    district = District(databases.fresh(), _free_port(), tmp / "district-answers.log", other_cpus)
    from sync.transport import HttpTransport

    district_url = f"http://{HOST}:{district.port}"
    enrol(hub, district, HttpTransport(district_url), district_url)
    from classroom_server.db import db

    db.close()
    port = _free_port()
    log_file = tmp / "hub-answers.log"
    own = os.sched_getaffinity(0)
    if other_cpus:
        os.sched_setaffinity(0, other_cpus)
    with open(log_file, "ab") as log:
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve-hub", str(hub), str(port), district_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, hub_cpus)) if hub_cpus else None)
    answering: Answering | None = None
    try:
        assert child.stdout is not None and child.stdin is not None
        if child.stdout.readline().strip() != "READY":
            raise RuntimeError(f"the hub did not start:\n{log_file.read_text()[-2000:]}")
        wait_for(f"http://{HOST}:{port}/healthz", child, log_file)
        answering = Answering(port, learners, hub, think, seed)
        answering.start()
        time.sleep(max(4.0, think[1] * 4))  # everyone signed in and answering
        begin = time.monotonic()
        time.sleep(baseline)
        child.stdin.write("sync\n")
        child.stdin.flush()
        report = json.loads(child.stdout.readline())
        if "error" in report:
            raise RuntimeError(f"the sync in the hub failed: {report['error']}")
        time.sleep(baseline)
        end = time.monotonic()
        answering.finish()
        child.stdin.write("timings\n")
        child.stdin.flush()
        in_hub = [tuple(pair) for pair in json.loads(child.stdout.readline())]
        child.stdin.write("stop\n")
        child.stdin.flush()
    finally:
        if answering is not None:
            answering.finish()
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        district.stop()
        os.sched_setaffinity(0, own)
    s0, s1 = report["start"], report["end"]

    def compare(samples: list[tuple[float, float]]) -> tuple[list[float], list[float], float | None]:
        during = [sec for at, sec in samples if s0 <= at < s1]
        base = [sec for at, sec in samples if begin <= at and at + sec < s0 or s1 < at < end]
        p95_base, p95_during = _percentile(base, 95), _percentile(during, 95)
        return base, during, round(p95_during / p95_base - 1, 3) if p95_base and p95_during else None

    base, during, slowdown = compare(answering.samples)
    hub_base, hub_during, hub_slowdown = compare(in_hub)

    def ms(values: list[float], p: float) -> float:
        return round((_percentile(values, p) or 0) * 1000, 1)

    return {
        "answer_p95_slowdown": slowdown,
        "answer_ms_p50_baseline": ms(base, 50), "answer_ms_p95_baseline": ms(base, 95),
        "answer_ms_p50_during_sync": ms(during, 50), "answer_ms_p95_during_sync": ms(during, 95),
        "answer_p95_slowdown_in_hub": hub_slowdown,
        "answer_ms_p50_baseline_in_hub": ms(hub_base, 50), "answer_ms_p50_during_sync_in_hub": ms(hub_during, 50),
        "answer_ms_p95_baseline_in_hub": ms(hub_base, 95), "answer_ms_p95_during_sync_in_hub": ms(hub_during, 95),
        "answers_baseline": len(base), "answers_during_sync": len(during),
        "answer_errors": len(answering.errors), "answer_error_samples": answering.errors[:3],
        "sync_seconds_while_answering": round(s1 - s0, 2), "sync_pushed_while_answering": report["pushed"],
        "learners_answering": len(learners), "think_seconds": list(think),
        "hub_pinned_to_one_cpu": pinned,
    }


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer attempts, no slow link: within a minute")
    parser.add_argument("--attempts", type=int, help="answers in the hub's log (default 100000; --quick 2000)")
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--district-db", default=DEFAULT_PG,
                        help="a PostgreSQL server where this script may create and drop databases")
    parser.add_argument("--via-proxy", metavar="HOST:PORT",
                        help="slow link: reach the district through this TCP relay (which forwards to "
                             "127.0.0.1:--district-port across the emulated link)")
    parser.add_argument("--district-port", type=int, default=8765,
                        help="the port the district listens on for the slow link (the relay's target)")
    parser.add_argument("--learners", type=int, default=20, help="learners answering during the sync")
    parser.add_argument("--baseline", type=float, help="seconds of answers before and after the sync "
                                                       "(default 45; --quick 4)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--apply-runs", type=int, default=3,
                        help="times the district apply rate is measured, each on a fresh database (the median is "
                             "reported)")
    parser.add_argument("--serve-hub", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_hub:
        serve_hub(Path(args.serve_hub[0]), int(args.serve_hub[1]), args.serve_hub[2])
        return {}
    attempts = args.attempts or (2000 if args.quick else 100_000)
    baseline = args.baseline if args.baseline is not None else (4.0 if args.quick else 45.0)
    think = (0.3, 1.0) if args.quick else (1.0, 3.0)
    result: dict[str, Any] = {"attempts": attempts, "quick": args.quick, "skipped": []}
    phases: dict[str, float] = {}
    began = mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 1)
        mark = now

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp_name:
        tmp = Path(tmp_name)
        databases = Databases(args.district_db, tmp)
        result["district_db"] = databases.kind
        if databases.problem:
            result["district_db_problem"] = databases.problem
        try:
            say(f"building a hub with {attempts} attempts ...")
            hub = build_hub(tmp / "hub", attempts, classes=args.classes, class_size=args.class_size, seed=args.seed,
                            log=lambda m: say("  " + m))
            result.update(hub_events=hub.events, hub_attempts=hub.attempts)
            phase("build_hub")
            copies = {name: copy_hub(hub.data, tmp / f"hub-{name}") for name in ("answers", "link")}

            say("full push over loopback, then an empty sync ...")
            district = District(databases.fresh(), _free_port(), tmp / "district.log")
            relay = Relay((HOST, district.port))
            try:
                transport = CountingTransport(relay, keep_push_bodies=True)
                enrol(hub.data, district, transport, transport.inner.base_url)
                transport.posts.clear()
                full = sync_until_done(hub.data, transport)
                posts = list(transport.posts)
                held = district.event_count()
                transport.posts.clear()
                empty = sync_until_done(hub.data, transport)
                empty_posts = list(transport.posts)
                transport.close()
            finally:
                relay.close()
                district.stop()
            if held != hub.events:
                raise RuntimeError(f"the district holds {held} events; the hub has {hub.events}")
            result.update(push_stats(posts))
            up = sum(p.up for p in posts)
            down = sum(p.down for p in posts)
            result.update(
                loopback_seconds=round(full["seconds"], 2),
                loopback_events_per_s=round(hub.events / full["seconds"]),
                loopback_requests=len(posts), loopback_bytes_up=up, loopback_bytes_down=down,
                whole_sync_bytes_per_attempt=round((up + down) / hub.attempts, 1),
                empty_sync_requests=len(empty_posts),
                empty_sync_bytes=sum(p.up + p.down for p in empty_posts),
                empty_sync_bodies_bytes=sum(p.body_bytes for p in empty_posts),
                empty_sync_ms=round(empty["seconds"] * 1000, 1),
            )

            phase("loopback_push_and_empty_sync")
            say("district apply rate ...")
            applied = apply_runs(databases, [p.body for p in posts if p.body is not None], args.apply_runs)
            if applied["held"] != hub.events:
                raise RuntimeError(f"the apply run holds {applied['held']} events; the hub has {hub.events}")
            result.update(district_events_per_s=applied["events_per_s"], district_apply_seconds=applied["seconds"],
                          district_apply_cpu_seconds=applied["cpu_seconds"],
                          district_apply_cpu_us_per_event=applied["cpu_us_per_event"],
                          district_events_per_s_runs=applied["runs"])

            phase("district_apply")
            say("answers while the hub syncs its backlog ...")
            learners = hub.learners[: args.learners]
            result.update(answers_during_sync(copies["answers"], learners, databases, tmp, baseline, think, args.seed))
            phase("answers_during_sync")

            if args.via_proxy and not args.quick:
                say(f"slow link: pushing the backlog through {args.via_proxy} ...")
                host, _, port = args.via_proxy.rpartition(":")
                district = District(databases.fresh(), args.district_port, tmp / "district-link.log")
                relay = Relay((host, int(port)))
                try:
                    transport = CountingTransport(relay)
                    enrol(copies["link"], district, transport, f"http://{args.via_proxy}")
                    transport.posts.clear()
                    link = sync_until_done(copies["link"], transport)
                    link_posts = list(transport.posts)
                    held = district.event_count()
                    transport.close()
                finally:
                    relay.close()
                    district.stop()
                if held != hub.events:
                    raise RuntimeError(f"over the link the district got {held} events of {hub.events}")
                result.update(
                    link_seconds=round(link["seconds"], 1), link_attempts=hub.attempts,
                    link_100k_seconds=round(link["seconds"] * 100_000 / hub.attempts, 1),
                    link_100k_extrapolated=hub.attempts != 100_000,
                    link_requests=len(link_posts), link_failed_syncs=link["failed_syncs"],
                    link_failures=link["failures"], link_requests_unanswered=transport.failed,
                    link_bytes=sum(p.up + p.down for p in link_posts),
                    link_bytes_per_attempt=round(sum(p.up + p.down for p in link_posts) / hub.attempts, 1),
                    link_slowest_request_s=round(max(p.seconds for p in link_posts), 1),
                )
                phase("slow_link")
            else:
                result["link_100k_seconds"] = None
                result["skipped"].append("slow link (" + ("--quick" if args.quick else "no --via-proxy") + ")")
        finally:
            databases.drop_all()
    result.update(seconds=round(time.monotonic() - began, 1), phase_seconds=phases, cpus=os.cpu_count(),
                  load_average_before_after=[round(load_before, 2), round(os.getloadavg()[0], 2)])
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
