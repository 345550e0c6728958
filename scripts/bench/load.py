"""A class of real learners over HTTP against a real hub pinned to one core, and the slow board.

    python scripts/bench/load.py [--learners 40] [--seconds 60] [--think 1-3] [--cpu-quota PCT] [--no-pin]

What it does:
1. Builds the demo school in a temporary directory (`classroom-server demo --no-serve`: 30
   learners in 2 classes, both bundled packs, 3 days of simulated practice). When --learners is
   above 30, a throwaway `serve` is started and each class's teacher adds the missing learners
   with the class page's "list of names" form (one POST per class, the way a teacher pastes a
   class list), reading every new picture password or PIN from the login cards it shows. Then
   that server is stopped, so nothing of the set-up stays in the measured server's memory.
2. Starts `classroom-server serve` on a free port on 127.0.0.1 with its defaults, pinned to
   core 0 (`taskset -c 0`); the load generator pins itself to core 1. With --cpu-quota PCT the
   server runs from its first instruction in a new CPU cgroup limited to PCT % of one core
   (cgroup v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`, or cgroup v2 `cpu.max`), removed
   afterwards: 10 % of a core of this machine is about one core of a Raspberry Pi 3.
3. Login storm: all learners are released together and sign in as a child does (class, name,
   then 3 picture taps, posted once as the page's script does, or a PIN; each form with its
   CSRF token), timed.
4. Load phase, for --seconds: each learner loops like a learner (scripts/bench/answers.py's
   learner): my path, the first practice item's page, the answer POST whose reply is the
   feedback page; a lesson or worked example when the path offers one; sign out and in again at
   the session's break. The learner pauses for the think time after every page, the feedback
   page included (so one answer is 3 requests and 3 pauses; --think 0: a closed loop, the
   server's capacity).
5. Checks that every answer that got a 200 is in the event log exactly once (by event id), that
   no other attempt appeared, that the per-origin sequence has no gap, and that
   `classroom-server recompute --check` finds the stored mastery equal to a rebuild.

What it reports: per request kind, the count, requests/s and p50/p95/p99/max latency (measured
on the client, from sending to having read the whole reply); errors and failed sign-ins; the
server's CPU from /proc/<pid>/stat, summed over its process tree, in ms per request and per
answer; its resident memory (VmRSS of the tree) idle before the storm and at its peak, sampled
every 0.25 s; the time from launch to the first 200 on /healthz; and p95 three ways: the load
phase, the load phase "after the sign-in burst" (requests sent once every learner has had the
first "my path" page that follows the storm), and the whole run (storm included).
The last line printed is one JSON object. Only 127.0.0.1 is ever contacted; every loop is
bounded by --seconds and --max-requests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.bench import answers as bench  # noqa: E402
from scripts.bench.answers import HOST, Page, Stats, timed  # noqa: E402

SERVER_CORE, LOADGEN_CORE = 0, 1
SAMPLE_SECONDS = 0.25
MY_PATH = "GET /learn/ (my path)"


# ----------------------------------------------------------------------------- arguments

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=40, help="simulated learners, 1..500 (default 40)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the load phase (default 60)")
    parser.add_argument("--think", type=bench._parse_think, default=(1.0, 3.0), metavar="MIN-MAX",
                        help="pause after every page, seconds: 1-3 (default), 2, or 0 for a closed loop")
    parser.add_argument("--cpu-quota", type=float, default=None, metavar="PCT",
                        help="run the server under a CPU cgroup limited to PCT %% of one core (1..100); "
                             "10 is about a Raspberry Pi 3's core")
    parser.add_argument("--no-pin", action="store_true",
                        help="let the server and the load generator share every core (no taskset)")
    parser.add_argument("--threads", type=int, default=None, help="server worker threads (default: the hub's)")
    parser.add_argument("--right", type=float, default=0.7, help="share of answers that are right (default 0.7)")
    parser.add_argument("--max-requests", type=int, default=500_000, help="hard cap on requests")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and log")
    args = parser.parse_args(argv)
    if not 1 <= args.learners <= 500:
        parser.error("--learners must be 1..500")
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds must be more than 0 and at most 3600")
    if args.cpu_quota is not None and not 1 <= args.cpu_quota <= 100:
        parser.error("--cpu-quota is a share of one core in per cent, 1..100 (e.g. 10)")
    if not 0 <= args.right <= 1:
        parser.error("--right must be between 0 and 1")
    return args


# ----------------------------------------------------------------------------- figures

class Timeline(list[float]):
    """A label's latencies, with when each request ended: answers.timed() appends the elapsed
    time under the stats lock, and this keeps the clock beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []

    def append(self, elapsed: float) -> None:
        super().append(elapsed)
        self.ends.append(time.perf_counter())

    def spans(self) -> list[tuple[float, float]]:
        """(started, elapsed) of every request."""
        return [(end - elapsed, elapsed) for elapsed, end in zip(self, self.ends, strict=True)]


class TimedStats(Stats):
    """answers.Stats whose latencies keep their times, so phases can be told apart afterwards."""

    def __init__(self, max_requests: int) -> None:
        super().__init__(max_requests)
        self.latency = defaultdict(Timeline)

    def spans(self) -> dict[str, list[tuple[float, float]]]:
        with self.lock:
            return {label: cast(Timeline, values).spans() for label, values in self.latency.items()}


def latency_summary(values: list[float], seconds: float | None = None) -> dict[str, Any]:
    """Count, rate and p50/p95/p99/max in ms of a list of latencies in seconds."""
    return {
        "count": len(values),
        "per_s": round(len(values) / seconds, 2) if seconds else None,
        "p50_ms": bench._ms(bench._percentile(values, 50)),
        "p95_ms": bench._ms(bench._percentile(values, 95)),
        "p99_ms": bench._ms(bench._percentile(values, 99)),
        "max_ms": bench._ms(max(values) if values else None),
    }


def between(spans: dict[str, list[tuple[float, float]]], start: float, end: float = float("inf"),
            labels: Callable[[str], bool] = lambda label: True) -> list[float]:
    """Latencies of the requests sent in [start, end) under the labels chosen."""
    return [elapsed for label, rows in spans.items() if labels(label)
            for started, elapsed in rows if start <= started < end]


def burst_end(spans: dict[str, list[tuple[float, float]]], label: str, learners: int, since: float) -> float | None:
    """When the last of the learners' first ``label`` requests after ``since`` ended: the wave
    that follows a login storm, since every learner's first step begins with that request."""
    ends = sorted(started + elapsed for started, elapsed in spans.get(label, []) if started >= since)
    return ends[learners - 1] if len(ends) >= learners else None


def endpoint_table(spans: dict[str, list[tuple[float, float]]], errors: dict[str, int], start: float,
                   seconds: float) -> dict[str, dict[str, Any]]:
    """Per label, the requests sent from ``start`` on: count, per second, percentiles, errors."""
    table = {}
    for label in sorted(spans):
        values = between(spans, start, labels=label.__eq__)
        if values or errors.get(label):
            table[label] = {**latency_summary(values, seconds), "errors": errors.get(label, 0)}
    return table


def print_table(title: str, table: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"{'request':34} {'count':>6} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'errors':>6}")
    for label, row in table.items():
        print(f"{label:34} {row['count']:6d} {row['per_s'] or 0:7.2f} {row['p50_ms'] or 0:8.1f} "
              f"{row['p95_ms'] or 0:8.1f} {row['p99_ms'] or 0:8.1f} {row['max_ms'] or 0:8.1f} {row['errors']:6d}")


def json_line(summary: dict[str, Any]) -> str:
    """The last line of the output: one JSON object on one line."""
    return json.dumps(summary, separators=(", ", ": "), sort_keys=False)


# ----------------------------------------------------------------------------- the server process

def tree_pids(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
    found, stack = [], [pid]
    while stack:
        one = stack.pop()
        found.append(one)
        stack.extend(children.get(one, []))
    return found


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    for one in tree_pids(pid):
        try:
            total += bench._cpu_seconds(one)
        except OSError:
            pass
    return total


def tree_rss_kb(pid: int) -> int:
    total = 0
    for one in tree_pids(pid):
        try:
            total += bench._proc_status(one)["VmRSS"]
        except (OSError, KeyError):
            pass
    return total


class MemorySampler(threading.Thread):
    """The peak resident memory of a process tree, sampled until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb = pid, tree_rss_kb(pid)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(SAMPLE_SECONDS):
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))

    def stop(self) -> int:
        self._halt.set()
        self.join(timeout=5)
        self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
        return self.peak_kb


class CpuQuota:
    """A CPU cgroup of our own holding the server: PCT % of one core, removed by ``remove()``.

    cgroup v1 (a hierarchy mounted with the ``cpu`` controller): ``cpu.cfs_period_us`` and
    ``cpu.cfs_quota_us``. cgroup v2 (a ``cgroup2`` mount whose root offers ``cpu``): ``cpu.max``.
    The cgroup is made under the one this process is in; the server joins it before it execs."""

    PERIOD_US = 100_000

    def __init__(self, percent: float) -> None:
        self.percent, self.path, self.version = percent, None, 0
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        v1 = [m.split()[1] for m in mounts if m.split()[2] == "cgroup" and "cpu" in m.split()[3].split(",")]
        v2 = [m.split()[1] for m in mounts if m.split()[2] == "cgroup2"
              and "cpu" in _read(Path(m.split()[1]) / "cgroup.controllers").split()]
        if v1:
            self.version, root = 1, Path(v1[0])
            own = _own_cgroup(lambda controllers: "cpu" in controllers.split(","))
        elif v2:
            self.version, root = 2, Path(v2[0])
            own = _own_cgroup(lambda controllers: controllers == "")
        else:
            raise SystemExit("--cpu-quota needs a CPU cgroup controller, and this machine mounts none "
                             "(`mount | grep cgroup` shows no cgroup v1 `cpu` hierarchy and no cgroup v2 with `cpu`).")
        parent = root / own.lstrip("/")
        self.path = parent / f"classroom-bench-{os.getpid()}"
        try:
            if self.version == 2 and "cpu" not in _read(parent / "cgroup.subtree_control").split():
                (parent / "cgroup.subtree_control").write_text("+cpu")
            self.path.mkdir()
            if self.version == 1:
                (self.path / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
                (self.path / "cpu.cfs_quota_us").write_text(str(int(self.PERIOD_US * percent / 100)))
            else:
                (self.path / "cpu.max").write_text(f"{int(self.PERIOD_US * percent / 100)} {self.PERIOD_US}")
        except OSError as exc:
            self.remove()
            raise SystemExit(f"--cpu-quota cannot set up a CPU cgroup under {parent}: {exc.strerror or exc}. "
                             "It needs write access to the cgroup file system (run it as root, or in a "
                             "container allowed to manage its cgroups).") from None

    @property
    def procs(self) -> Path:
        assert self.path is not None
        return self.path / "cgroup.procs"

    def throttled(self) -> dict[str, float]:
        """How often and how long the cgroup's tasks were held back by the quota."""
        stat: dict[str, str] = {}
        for line in _read(self.path / "cpu.stat" if self.path else None).splitlines():
            key, _, value = line.partition(" ")
            stat[key] = value.strip()
        if self.version == 1:
            return {"periods": int(stat.get("nr_periods", 0)), "throttled": int(stat.get("nr_throttled", 0)),
                    "throttled_s": round(int(stat.get("throttled_time", 0)) / 1e9, 2)}
        return {"periods": int(stat.get("nr_periods", 0)), "throttled": int(stat.get("nr_throttled", 0)),
                "throttled_s": round(int(stat.get("throttled_usec", 0)) / 1e6, 2)}

    def remove(self) -> None:
        """Remove the cgroup once its processes have ended (waits up to 10 s for them)."""
        if self.path is None or not self.path.exists():
            return
        deadline = time.monotonic() + 10
        while True:
            try:
                self.path.rmdir()
                return
            except OSError:
                if time.monotonic() > deadline:
                    print(f"could not remove the cgroup {self.path}: processes are still in it", file=sys.stderr)
                    return
                time.sleep(0.05)


def _read(path: Path | None) -> str:
    try:
        return Path(path).read_text() if path is not None else ""
    except OSError:
        return ""


def _own_cgroup(matches: Callable[[str], bool]) -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if matches(controllers):
            return path
    return "/"


@dataclass
class Server:
    """A server process we started, pinned and perhaps in a cgroup, with how long it took to answer."""

    process: subprocess.Popen[bytes]
    port: int
    ready_s: dict[str, float] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def launch(command: list[str], port: int, ready_paths: list[str], log_file: Path, env: dict[str, str] | None = None,
           core: int | None = None, cgroup_procs: Path | None = None, timeout: float = 180) -> Server:
    """Start ``command`` (a server on 127.0.0.1:``port``), on ``core`` alone if given and in the cgroup
    whose ``cgroup.procs`` is given, and wait until every one of ``ready_paths`` answers 200; the
    seconds from launch to each path's first 200 are in ``ready_s``."""
    import requests

    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    if cgroup_procs is not None:  # join the cgroup before exec, so the quota holds from the start
        command = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup_procs), *command]
    started = time.perf_counter()
    with open(log_file, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = Server(process, port)
    pending = list(ready_paths)
    deadline = time.monotonic() + timeout
    with requests.Session() as probe:
        while pending:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited during start (exit {process.returncode}); see {log_file}")
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"the server did not answer {pending} within {timeout:.0f} s; see {log_file}")
            for path in list(pending):
                try:
                    if probe.get(f"http://{HOST}:{port}{path}", timeout=2).status_code == 200:
                        server.ready_s[path] = round(time.perf_counter() - started, 3)
                        pending.remove(path)
                except requests.RequestException:
                    pass
            time.sleep(0.02)
    return server


def pin_loadgen(enabled: bool) -> list[int]:
    """Put this process (and the threads it starts from now on) on the load generator's core."""
    if enabled:
        available = os.sched_getaffinity(0)
        if not {SERVER_CORE, LOADGEN_CORE} <= available:
            raise SystemExit(f"pinning needs cores {SERVER_CORE} and {LOADGEN_CORE}, and this process may use "
                             f"{sorted(available)}; pass --no-pin to let the server and the load generator share.")
        if shutil.which("taskset") is None:
            raise SystemExit("pinning needs `taskset` (util-linux); pass --no-pin to run without it.")
        os.sched_setaffinity(0, {LOADGEN_CORE})
    return sorted(os.sched_getaffinity(0))


# ----------------------------------------------------------------------------- the hub

CARD = re.compile(r'<article class="login-card">.*?</span>\s*([^<]+?)\s*</h2>.*?data-secret="([^"]*)"', re.S)


def add_learners(stats: Stats, port: int, logins: dict[str, Any], wanted: int) -> list[dict[str, Any]]:
    """The demo's learners, plus new ones until there are ``wanted``: each class's teacher pastes a
    list of names on the class's roster page (one request per class) and the login cards it shows
    give each new learner's secret; their ids come from the class's sign-in page."""
    people: list[dict[str, Any]] = []
    for entry in logins["classes"]:
        for learner in entry["learners"]:
            people.append({"class_id": entry["id"], "kind": entry["kind"], "id": learner["id"],
                           "name": learner["name"], "secret": learner["secret"]})
    missing = max(0, wanted - len(people))
    classes = logins["classes"]
    passwords = {s["username"]: s["password"] for s in logins["staff"]}
    for index, entry in enumerate(classes):
        names = [f"Bench {n:03d}" for n in range(len(people) + 1, len(people) + 1 + missing)][index::len(classes)]
        if not names:
            continue
        teacher = bench.staff_session(stats, port, entry["teacher"], passwords[entry["teacher"]])
        form = Page(timed(stats, teacher, "setup", "GET", f"/teach/classes/{entry['id']}/roster").text)
        result = timed(stats, teacher, "setup", "POST", f"/teach/classes/{entry['id']}/roster/names/add",
                       data={"csrf_token": form.csrf(), "names_format": "lines", "names_text": "\n".join(names)})
        secrets = {unescape(name): secret for name, secret in CARD.findall(result.text)}
        if sorted(secrets) != sorted(names):
            raise RuntimeError(f"the class list added {len(secrets)} of {len(names)} learners to class {entry['id']}")
        ids = learner_ids(stats, port, entry["id"])
        for name in names:
            found = [learner_id for text, learner_id in ids.items() if text.endswith(name)]
            if len(found) != 1:
                raise RuntimeError(f"cannot find the new learner {name} on the class's sign-in page")
            secret: Any = secrets[name].split(",") if entry["kind"] == "picture" else secrets[name]
            people.append({"class_id": entry["id"], "kind": entry["kind"], "id": found[0], "name": name,
                           "secret": secret})
    return people


def learner_ids(stats: Stats, port: int, class_id: int) -> dict[str, int]:
    """Each name link on a class's sign-in page (its text: avatar letter and name) and its learner id."""
    page = Page(timed(stats, bench.new_session(port), "setup", "GET", f"/login/learner/{class_id}").text)
    return {text: int(href.rstrip("/").rsplit("/", 1)[1]) for href, text in page.links
            if href.startswith(f"/login/learner/{class_id}/")}


@dataclass
class Hub:
    data: Path
    people: list[dict[str, Any]]
    book: bench.AnswerBook


def build_hub(work: Path, learners: int) -> Hub:
    """The demo school with at least ``learners`` learners, built with the hub's own commands and pages."""
    data = work / "hub"
    logins = bench.build_demo(data)
    if learners <= sum(len(entry["learners"]) for entry in logins["classes"]):
        return Hub(data, add_learners(Stats(0), 0, logins, 0), bench.AnswerBook(data))
    port = bench._free_port()
    setup = launch(serve_command(data, port), port, ["/healthz"], work / "setup-server.log")
    try:
        people = add_learners(Stats(100_000), port, logins, learners)
    finally:
        setup.stop()
    return Hub(data, people, bench.AnswerBook(data))


def serve_command(data: Path, port: int, threads: int | None = None) -> list[str]:
    command = bench._cli() + ["serve", "--data", str(data), "--host", HOST, "--port", str(port)]
    return command + (["--threads", str(threads)] if threads else [])


# ----------------------------------------------------------------------------- a class at work

class ScenarioLearner(bench.Learner):
    """answers.py's learner, who can also do one thing over and over: ``light`` asks for the
    cheapest page a signed-in learner's browser asks for (the offline shell's service worker,
    /learn/sw.js: the session is read, nothing is rendered), ``home`` opens My path; ``path`` (the
    default) is the loop of answers.Learner.step (My path, think, the item, think, the answer whose
    reply is the feedback page) followed by a think on the feedback page, which answers.py's
    learner does not have: there the next My path follows the feedback at once."""

    mode = "path"

    def step(self, deadline: float) -> None:
        if self.mode == "light":
            timed(self.stats, self.session, "GET /learn/sw.js (light)", "GET", "/learn/sw.js")
        elif self.mode == "home":
            timed(self.stats, self.session, MY_PATH, "GET", "/learn/")
        else:
            super().step(deadline)
        self.think(deadline)


def our_learners(hub: Hub, port: int, stats: Stats, count: int, think: tuple[float, float], right: float = 0.7,
                 seed: int = 1, mode: str = "path") -> list[bench.Learner]:
    learners: list[bench.Learner] = []
    for n in range(count):
        learner = ScenarioLearner(n, hub.people[n % len(hub.people)], port, stats, hub.book, think, right, "html",
                                  seed * 1000 + n)
        learner.mode = mode
        learners.append(learner)
    return learners


@dataclass
class ClassRun:
    """What one storm and load phase measured (times are time.perf_counter())."""

    learners: int
    storm_started: float
    load_started: float
    load_ended: float
    storm_logins: list[float]
    storm_failures: int
    storm_cpu_s: float
    load_cpu_s: float
    loadgen_cpu_s: float
    rss_peak_kb: int
    stuck: int
    spans: dict[str, list[tuple[float, float]]]
    errors: dict[str, int]
    requests: int

    @property
    def storm_s(self) -> float:
        return self.load_started - self.storm_started

    @property
    def wall(self) -> float:
        return self.load_ended - self.load_started


def run_class(learners: list[bench.Learner], stats: TimedStats, pid: int, seconds: float) -> ClassRun:
    """All ``learners`` sign in at once (the storm), then work for ``seconds``; the server's CPU
    (process tree of ``pid``) and peak memory are measured over the storm and the load phase."""
    storm = threading.Barrier(len(learners))
    start = threading.Event()
    deadline_box = [0.0]
    threads = [threading.Thread(target=one.run, args=(storm, start, deadline_box), daemon=True) for one in learners]
    sampler = MemorySampler(pid)
    sampler.start()
    cpu0, storm_started = tree_cpu_seconds(pid), time.perf_counter()
    for thread in threads:
        thread.start()
    storm_deadline = time.monotonic() + 300
    while len(stats.logins) + stats.login_failures < len(learners) and time.monotonic() < storm_deadline:
        time.sleep(0.005)
    load_started, cpu1 = time.perf_counter(), tree_cpu_seconds(pid)
    with stats.lock:
        storm_logins, storm_failures = list(stats.logins), stats.login_failures
        stats.logins.clear()
        requests0 = stats.requests
    client0 = time.process_time()
    deadline_box[0] = time.monotonic() + seconds
    start.set()
    for thread in threads:
        thread.join(timeout=seconds + bench.REQUEST_TIMEOUT + 30)
    load_ended, cpu2 = time.perf_counter(), tree_cpu_seconds(pid)
    return ClassRun(
        learners=len(learners), storm_started=storm_started, load_started=load_started, load_ended=load_ended,
        storm_logins=storm_logins, storm_failures=storm_failures, storm_cpu_s=cpu1 - cpu0, load_cpu_s=cpu2 - cpu1,
        loadgen_cpu_s=time.process_time() - client0, rss_peak_kb=sampler.stop(),
        stuck=sum(t.is_alive() for t in threads), spans=stats.spans(), errors=dict(stats.errors),
        requests=stats.requests - requests0,
    )


def class_figures(run: ClassRun, answer_label: str | None = "POST answer",
                  first_label: str = MY_PATH) -> dict[str, Any]:
    """The figures every report of a class run gives, from the run's own records."""
    load = between(run.spans, run.load_started)
    everything = between(run.spans, run.storm_started)
    after = burst_end(run.spans, first_label, run.learners, run.load_started)
    after_burst = between(run.spans, after) if after is not None else []
    answers = len(between(run.spans, run.load_started, labels=lambda label: label == answer_label))
    requests = len(load)
    return {
        "requests": requests, "requests_per_s": round(requests / run.wall, 1),
        "answers": answers, "answers_per_s": round(answers / run.wall, 2),
        "cpu_ms_per_request": round(1000 * run.load_cpu_s / requests, 2) if requests else None,
        "cpu_ms_per_answer": round(1000 * run.load_cpu_s / answers, 2) if answers else None,
        "server_cpu_pct": round(100 * run.load_cpu_s / run.wall, 1),
        "loadgen_cpu_pct": round(100 * run.loadgen_cpu_s / run.wall, 1),
        "p50_ms": bench._ms(bench._percentile(load, 50)), "p95_ms": bench._ms(bench._percentile(load, 95)),
        "p99_ms": bench._ms(bench._percentile(load, 99)), "max_ms": bench._ms(max(load) if load else None),
        "burst_s": round(after - run.load_started, 2) if after is not None else None,
        "p95_after_burst_ms": bench._ms(bench._percentile(after_burst, 95)),
        "p95_whole_run_ms": bench._ms(bench._percentile(everything, 95)),
        "errors": sum(run.errors.values()), "login_failures": run.storm_failures,
        "login_storm_s": round(run.storm_s, 2),
        "login_p50_ms": bench._ms(bench._percentile(run.storm_logins, 50)),
        "login_p95_ms": bench._ms(bench._percentile(run.storm_logins, 95)),
        "login_cpu_ms_per_learner": round(1000 * run.storm_cpu_s / run.learners, 1),
        "rss_mb": round(run.rss_peak_kb / 1024, 1), "stuck_clients": run.stuck,
    }


# ----------------------------------------------------------------------------- main

def stop_on_sigterm() -> None:
    """A SIGTERM ends the run as Ctrl-C does: servers stopped, cgroup and scratch removed."""
    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(f"stopped by signal {signum}")
    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    stop_on_sigterm()
    quota = CpuQuota(args.cpu_quota) if args.cpu_quota is not None else None
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    server: Server | None = None
    finished = False
    try:
        print(f"building the demo school with {args.learners} learners in {work} ...", flush=True)
        hub = build_hub(work, args.learners)
        db_file, log_file = hub.data / "hub.sqlite3", work / "server.log"
        port = bench._free_port()
        loadgen_cores = pin_loadgen(not args.no_pin)
        server = launch(serve_command(hub.data, port, args.threads), port, ["/healthz"], log_file,
                        core=None if args.no_pin else SERVER_CORE, cgroup_procs=quota.procs if quota else None)
        print(f"server pid {server.pid} on {HOST}:{port}, "
              f"{'unpinned' if args.no_pin else f'pinned to core {SERVER_CORE}'}"
              f"{f', CPU quota {args.cpu_quota:g} % of a core' if quota else ''}; first 200 on /healthz after "
              f"{server.ready_s['/healthz']:.2f} s; load generator on cores {loadgen_cores}", flush=True)
        time.sleep(2)  # idle: let the start settle before reading its memory
        idle_kb = tree_rss_kb(server.pid)
        first_id = bench.baseline(db_file)
        stats = TimedStats(args.max_requests)
        load_since = time.strftime("%Y-%m-%d %H:%M:%S")
        run = run_class(our_learners(hub, port, stats, args.learners, args.think, args.right, args.seed),
                        stats, server.pid, args.seconds)
        throttled = quota.throttled() if quota else None
        hwm_kb = bench._proc_status(server.pid)["VmHWM"]
        print(f"login storm: {args.learners} learners signed in in {run.storm_s:.2f} s "
              f"({run.storm_failures} failed)", flush=True)
        finished = True
    finally:
        if server is not None:
            server.stop()
        if quota is not None:
            quota.remove()
        if not finished and not args.keep:  # a failure or an interrupt: nothing is left behind
            shutil.rmtree(work, ignore_errors=True)

    correctness = bench.check_database(db_file, first_id, stats.answers_ok, stats.answers_failed)
    recompute = subprocess.run(bench._cli() + ["recompute", "--data", str(hub.data), "--check"],
                               capture_output=True, text=True, env=dict(os.environ, CLASSROOM_LOG_LEVEL="warning"))
    log_scan = bench.scan_log(log_file, load_since)
    figures = class_figures(run)
    print_table("login storm (all learners released together)",
                {**endpoint_table({k: v for k, v in run.spans.items() if k.startswith("login")}, {},
                                  run.storm_started, run.storm_s),
                 "sign-in, whole": {**latency_summary(run.storm_logins, run.storm_s), "errors": run.storm_failures}})
    print_table(f"load phase, {run.wall:.1f} s", endpoint_table(
        {k: v for k, v in run.spans.items() if not k.startswith("login")}, run.errors, run.load_started, run.wall))
    for line in stats.samples:
        print("error sample:", line)
    correct = (correctness["lost"] == 0 and correctness["doubled"] == 0 and correctness["unexpected"] == 0
               and correctness["seq_gaps"] == 0 and recompute.returncode == 0)
    print(f"\np95: load phase {figures['p95_ms']} ms, after the sign-in burst ({figures['burst_s']} s) "
          f"{figures['p95_after_burst_ms']} ms, whole run {figures['p95_whole_run_ms']} ms")
    print(f"server CPU {figures['server_cpu_pct']} % of a core: {figures['cpu_ms_per_request']} ms a request, "
          f"{figures['cpu_ms_per_answer']} ms an answer; load generator {figures['loadgen_cpu_pct']} %"
          + (f"; throttled {throttled}" if throttled else ""))
    print(f"memory: idle {idle_kb / 1024:.1f} MB, peak {run.rss_peak_kb / 1024:.1f} MB (VmHWM {hwm_kb / 1024:.1f} MB)")
    print(f"correctness: {correctness['client_answers_200']} answers got a 200, {correctness['db_new_attempts']} new "
          f"attempt events; lost {correctness['lost']}, doubled {correctness['doubled']}, unexpected "
          f"{correctness['unexpected']}, sequence gaps {correctness['seq_gaps']}; recompute --check exit "
          f"{recompute.returncode}")
    print(f"server log: {log_scan}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if not correct:
        print("CHECK FAILED: an answer with a 200 is not in the event log exactly once, or the log is wrong")

    summary = {
        "learners": args.learners, "seconds": args.seconds, "think": f"{args.think[0]:g}-{args.think[1]:g}",
        "pinned": not args.no_pin, "cpu_quota_pct": args.cpu_quota,
        **{k: figures[k] for k in ("requests_per_s", "answers_per_s", "cpu_ms_per_answer", "cpu_ms_per_request",
                                   "p50_ms", "p95_ms", "p99_ms", "max_ms", "p95_after_burst_ms", "burst_s",
                                   "p95_whole_run_ms", "errors", "login_failures", "login_storm_s", "login_p50_ms",
                                   "login_p95_ms", "login_cpu_ms_per_learner", "server_cpu_pct",
                                   "loadgen_cpu_pct", "rss_mb")},
        "rss_idle_mb": round(idle_kb / 1024, 1), "hwm_mb": round(hwm_kb / 1024, 1),
        "start_s": server.ready_s["/healthz"], "requests": figures["requests"], "answers": figures["answers"],
        "relogins": stats.relogins, "breaks": stats.breaks, "stuck_clients": run.stuck, "throttled": throttled,
        "endpoints": {label: {k: row[k] for k in ("count", "per_s", "p50_ms", "p95_ms", "p99_ms", "errors")}
                      for label, row in endpoint_table(run.spans, run.errors, run.load_started, run.wall).items()
                      if not label.startswith("login")},
        "answers_200": correctness["client_answers_200"], "db_new_attempts": correctness["db_new_attempts"],
        "answers_lost": correctness["lost"], "answers_doubled": correctness["doubled"],
        "answers_unexpected": correctness["unexpected"], "seq_gaps": correctness["seq_gaps"],
        "recompute_check_ok": recompute.returncode == 0, "correct": correct,
        "server_5xx": log_scan["status_5xx"], "server_tracebacks": log_scan["tracebacks"],
        "sqlite_locked": log_scan["locked_or_busy"], "waitress_queue_depth_max": log_scan["waitress_queue_depth_max"],
    }
    print(json_line(summary))
    if not correct:
        sys.exit(1)


if __name__ == "__main__":
    main()
