"""Our hub and Kolibri 0.19.5 side by side, each pinned to one core, in one sitting.

    python scripts/bench/kolibri/side_by_side.py [--seconds 30] [--think 1-3] [--kolibri-venv DIR] [--keep]

One command from a fresh clone; everything it makes is under one temporary directory, removed at
the end, and every server it starts is stopped, even when a step fails or it is interrupted.

1. Installs Kolibri 0.19.5 from PyPI into a virtualenv of its own (or uses --kolibri-venv, a
   virtualenv that already has it, which is kept).
2. Provisions Kolibri (`kolibri manage migrate`, `provisiondevice`, then classroom.py in
   Kolibri's shell): 1 facility, 1 class, 1 coach, 40 learners with passwords, 2 active lessons
   of 5 resources and 1 active quiz. Builds our hub as scripts/bench/load.py does (the demo
   school, 2 classes of 20 once the teachers' class lists have added 10 learners, both bundled
   packs, 3 days of practice).
3. For each server in turn (ours, then Kolibri; `--order` changes it): starts it pinned to core 0
   (`taskset -c 0`) with the load generator on core 1, timing launch to the first 200 of its
   sign-in page and of a plain status call; reads its idle resident memory after --settle
   seconds; warms it up with one learner for 3 s; then runs each scenario: a login storm of the
   40 learners (all released together), then --seconds of load:
     light      the cheapest authenticated request, closed loop (ours: /learn/sw.js; Kolibri:
                /learn/api/state/)
     home       the learner's home, closed loop (ours: My path, rendered; Kolibri: homehydrate)
     heartbeat  Kolibri's presence call, closed loop; our hub has no such call, so it has no row
     answers    answering, closed loop (ours: load.py's learner: My path, the item, the answer
                whose reply is the feedback page; Kolibri: open an exercise, 5 answers)
     classroom  think --think after every step (ours: the same learner; Kolibri: 60 % answers,
                25 % home, 15 % heartbeat)
   Our scenarios use load.py's learner code, Kolibri's kolibri_learner.py: both are answers.py's
   learner loop, recording and storm. CPU is read from /proc/<pid>/stat of the server's process
   tree; resident memory is sampled every 0.25 s. One server process serves all its scenarios,
   so its peak memory is cumulative, as it is in a classroom.
4. Checks that every answer our hub acknowledged is in its event log exactly once.
5. Prints both servers' figures and ours/Kolibri ratios; the last line is one JSON object.

Kolibri runs with ping and zeroconf off and listens on 127.0.0.1. When this runs as root with
`unshare` and `ip`, the servers and the load generator run in a network namespace of their own
that holds nothing but loopback (only the install reaches PyPI); --no-netns skips it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from scripts.bench import answers as bench  # noqa: E402
from scripts.bench import load  # noqa: E402
from scripts.bench.kolibri.kolibri_learner import LABELS, KolibriLearner  # noqa: E402

KOLIBRI_VERSION = "0.19.5"
HERE = Path(__file__).resolve().parent
INSTALL_FILE = "kolibri-install.json"  # the install's figures, for the measuring half's JSON line
SERVERS_FILE = "servers.pids"  # "pid marker" lines: what the outer process stops if the inner one could not


@dataclass(frozen=True)
class Scenario:
    name: str
    ours: str | None  # load.ScenarioLearner's mode; None: our hub has no equivalent
    kolibri: str  # KolibriLearner's mode
    think: bool  # True: the --think pause after every step; False: a closed loop
    answers: bool = False  # whether learners answer in it (answers/s, CPU an answer)


SCENARIOS = [
    Scenario("light", "light", "light", think=False),
    Scenario("home", "home", "home", think=False),
    Scenario("heartbeat", None, "heartbeat", think=False),
    Scenario("answers", "path", "answer", think=False, answers=True),
    Scenario("classroom", "path", "classroom", think=True, answers=True),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="load per scenario, after its storm (default 30)")
    parser.add_argument("--learners", type=int, default=40, help="learners (default 40)")
    parser.add_argument("--think", type=bench._parse_think, default=(1.0, 3.0), metavar="MIN-MAX",
                        help="the classroom scenario's pause after every step (default 1-3)")
    parser.add_argument("--settle", type=float, default=5, help="idle seconds before reading memory (default 5)")
    parser.add_argument("--order", choices=("ours-first", "kolibri-first"), default="ours-first")
    parser.add_argument("--kolibri-venv", type=Path, help=f"a virtualenv with kolibri=={KOLIBRI_VERSION} to use "
                                                          "(kept) instead of installing one")
    parser.add_argument("--no-netns", action="store_true", help="use the host's loopback, not a namespace of our own")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (data, logs)")
    parser.add_argument("--inside", type=Path, help=argparse.SUPPRESS)  # the measuring half, in the namespace
    args = parser.parse_args(argv)
    if not 1 <= args.learners <= 99:
        parser.error("--learners must be 1..99 (Kolibri's usernames are learner01..learner99)")
    if not 0 < args.seconds <= 3600 or not 0 <= args.settle <= 600:
        parser.error("--seconds must be more than 0 and at most 3600, --settle 0..600")
    return args


# ----------------------------------------------------------------------------- Kolibri

def install_kolibri(venv: Path) -> dict[str, Any]:
    """A fresh virtualenv with Kolibri from PyPI; how long it took and how big it is."""
    print(f"installing kolibri=={KOLIBRI_VERSION} from PyPI into {venv} ...", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "--quiet",
                           f"kolibri=={KOLIBRI_VERSION}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pip could not install kolibri=={KOLIBRI_VERSION}:\n{done.stderr.strip()[-2000:]}")
    return {"install_s": round(time.perf_counter() - started, 1), "venv_mb": round(_size(venv) / 2**20)}


def check_kolibri(venv: Path) -> None:
    if not (venv / "bin" / "python").exists() or not (venv / "bin" / "kolibri").exists():
        raise SystemExit(f"--kolibri-venv {venv} is not a virtualenv with Kolibri in it (no bin/python, bin/kolibri)")
    found = subprocess.run([str(venv / "bin" / "python"), "-c", "import kolibri; print(kolibri.__version__)"],
                           capture_output=True, text=True)
    if found.returncode != 0 or found.stdout.strip() != KOLIBRI_VERSION:
        raise SystemExit(f"{venv} has no kolibri {KOLIBRI_VERSION} ({(found.stdout or found.stderr).strip()[-300:]})")


def kolibri_env(home: Path, port: int) -> dict[str, str]:
    """Kolibri kept to this machine: loopback only, no ping home, no zeroconf announcements."""
    return {**os.environ, "KOLIBRI_HOME": str(home), "KOLIBRI_LISTEN_ADDRESS": bench.HOST,
            "KOLIBRI_HTTP_PORT": str(port), "KOLIBRI_ZIP_CONTENT_PORT": str(port + 1),
            "KOLIBRI_DISABLE_PING": "True", "KOLIBRI_ZEROCONF_ENABLED": "False", "PYTHONPATH": ""}


def provision_kolibri(venv: Path, home: Path, learners: int, log: Path) -> dict[str, Any]:
    kolibri = str(venv / "bin" / "kolibri")
    env = {**kolibri_env(home, 0), "BENCH_LEARNERS": str(learners)}
    started = time.perf_counter()
    steps = [
        [kolibri, "manage", "migrate"],
        [kolibri, "manage", "provisiondevice", "--facility", "Bench School", "--superusername", "admin",
         "--superuserpassword", "bench-admin-password", "--preset", "formal", "--language_id", "en", "--noinput"],
        [kolibri, "manage", "shell", "-c",
         f"import runpy; runpy.run_path({str(HERE / 'classroom.py')!r}, run_name='__main__')"],
    ]
    made = None
    with open(log, "a") as out:
        for command in steps:
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            out.write(done.stdout + done.stderr)
            if done.returncode != 0:
                raise RuntimeError(f"`kolibri {' '.join(command[1:3])}` failed; see {log}")
            made = next((json.loads(line.split(" ", 1)[1]) for line in done.stdout.splitlines()
                         if line.startswith("BENCH_CLASSROOM ")), made)
    if made is None:
        raise RuntimeError(f"the classroom was not made in Kolibri; see {log}")
    return {**made, "provision_s": round(time.perf_counter() - started, 1)}


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


# ----------------------------------------------------------------------------- one server, every scenario

@dataclass
class Contender:
    """A server to measure: how to start it on a port, its readiness paths (the learner's sign-in
    page first), its learners for a scenario, and the label every learner's first request has."""

    name: str
    command: Callable[[int], list[str]]
    env: Callable[[int], dict[str, str] | None]
    ready_paths: list[str]
    mode: Callable[[Scenario], str | None]
    make_learners: Callable[[Scenario, int, load.TimedStats, int], list[bench.Learner]]
    first_label: Callable[[Scenario], str | None]
    answer_label: str


def two_free_ports() -> int:
    """A free port whose next one is free too (Kolibri serves its zip content on port + 1)."""
    import socket

    for _ in range(50):
        port = bench._free_port()
        with socket.socket() as probe:
            try:
                probe.bind((bench.HOST, port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("found no two free ports in a row on 127.0.0.1")


def measure(contender: Contender, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start the server pinned, read its start and idle memory, warm it, run every scenario, stop it."""
    port = two_free_ports()
    log = work / f"{contender.name}-server.log"
    print(f"\n== {contender.name}: starting on {bench.HOST}:{port}, pinned to core {load.SERVER_CORE}", flush=True)
    server = load.launch(contender.command(port), port, contender.ready_paths, log, env=contender.env(port),
                         core=load.SERVER_CORE)
    with open(work / SERVERS_FILE, "a") as pids:
        pids.write(f"{server.pid} {contender.name}\n")
    result: dict[str, Any] = {"start_s": server.ready_s[contender.ready_paths[0]], "ready_s": server.ready_s,
                              "answers_ok": [], "answers_failed": [], "scenarios": {}}
    try:
        time.sleep(args.settle)
        result["rss_idle_mb"] = round(load.tree_rss_kb(server.pid) / 1024, 1)
        warm_stats = load.TimedStats(10_000)
        load.run_class(contender.make_learners(SCENARIOS[-1], 1, warm_stats, port), warm_stats, server.pid, 3)
        time.sleep(args.settle)
        result["rss_after_warmup_mb"] = round(load.tree_rss_kb(server.pid) / 1024, 1)
        peak = 0
        for scenario in SCENARIOS:
            if contender.mode(scenario) is None:
                continue
            stats = load.TimedStats(1_000_000)
            run = load.run_class(contender.make_learners(scenario, args.learners, stats, port), stats, server.pid,
                                 args.seconds)
            figures = load.class_figures(run, answer_label=contender.answer_label,
                                         first_label=contender.first_label(scenario) or "")
            if not scenario.answers:
                figures.update(answers=None, answers_per_s=None, cpu_ms_per_answer=None)
            figures["endpoints"] = {label: {k: row[k] for k in ("count", "per_s", "p50_ms", "p95_ms", "errors")}
                                    for label, row in load.endpoint_table(run.spans, run.errors, run.load_started,
                                                                          run.wall).items()
                                    if not label.startswith("login")}
            result["scenarios"][scenario.name] = figures
            result["answers_ok"] += stats.answers_ok
            result["answers_failed"] += stats.answers_failed
            peak = max(peak, run.rss_peak_kb)
            print(f"{scenario.name:10} storm {figures['login_storm_s']:6.2f} s | {figures['requests_per_s']:6.1f} "
                  f"req/s, p50 {figures['p50_ms']} p95 {figures['p95_ms']} ms | server CPU "
                  f"{figures['cpu_ms_per_request']} ms/req, {figures['server_cpu_pct']} % | errors "
                  f"{figures['errors']} | load generator {figures['loadgen_cpu_pct']} %", flush=True)
            for sample in stats.samples[:3]:
                print(f"  error sample: {sample}")
        result["rss_peak_mb"] = round(peak / 1024, 1)
        result["rss_end_mb"] = round(load.tree_rss_kb(server.pid) / 1024, 1)
    finally:
        server.stop()
    return result


def our_hub(args: argparse.Namespace, work: Path) -> tuple[Contender, load.Hub]:
    print("building our hub (the demo school and the teachers' class lists) ...", flush=True)
    hub = load.build_hub(work / "ours", args.learners)

    def learners(scenario: Scenario, count: int, stats: load.TimedStats, port: int) -> list[bench.Learner]:
        think = args.think if scenario.think else (0.0, 0.0)
        return load.our_learners(hub, port, stats, count, think, mode=scenario.ours or "path")

    return Contender(
        "ours", lambda port: load.serve_command(hub.data, port), lambda port: None, ["/login/learner", "/healthz"],
        lambda scenario: scenario.ours, learners,
        lambda scenario: "GET /learn/sw.js (light)" if scenario.ours == "light" else load.MY_PATH, "POST answer",
    ), hub


def kolibri_classroom(args: argparse.Namespace, work: Path, venv: Path) -> tuple[Contender, dict[str, Any]]:
    print("provisioning Kolibri's classroom ...", flush=True)
    home = work / "kolibri-home"
    made = provision_kolibri(venv, home, args.learners, work / "kolibri-provision.log")

    def learners(scenario: Scenario, count: int, stats: load.TimedStats, port: int) -> list[bench.Learner]:
        think = args.think if scenario.think else (0.0, 0.0)
        return [KolibriLearner(n, args.learners, port, stats, made["facility"], think, 1000 + n, scenario.kolibri)
                for n in range(count)]

    first = {"light": LABELS["light"], "home": LABELS["home"], "heartbeat": LABELS["heartbeat"],
             "answer": LABELS["open"]}
    return Contender(
        "kolibri", lambda port: [str(venv / "bin" / "kolibri"), "start", "--foreground", "--port", str(port)],
        lambda port: kolibri_env(home, port), ["/en/auth/", "/api/public/info/"], lambda scenario: scenario.kolibri,
        learners, lambda scenario: first.get(scenario.kolibri), LABELS["answer"],
    ), made


# ----------------------------------------------------------------------------- the report

ROWS: list[tuple[str, tuple[str, ...]]] = [  # (label, keys in a scenario's figures)
    ("requests/s", ("requests_per_s",)),
    ("answers/s", ("answers_per_s",)),
    ("p50 ms", ("p50_ms",)),
    ("p95 ms", ("p95_ms",)),
    ("p99 ms", ("p99_ms",)),
    ("max ms", ("max_ms",)),
    ("server CPU ms a request", ("cpu_ms_per_request",)),
    ("server CPU ms an answer", ("cpu_ms_per_answer",)),
    ("server CPU % of its core", ("server_cpu_pct",)),
    ("errors", ("errors",)),
    ("login storm s", ("login_storm_s",)),
    ("sign-in p50 / p95 ms", ("login_p50_ms", "login_p95_ms")),
    ("failed sign-ins", ("login_failures",)),
    ("load generator CPU %", ("loadgen_cpu_pct",)),
]


def ratio(ours: Any, theirs: Any) -> float | None:
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
        return round(ours / theirs, 2)
    return None


def comparison(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Both servers' headline figures and ours/Kolibri for each."""
    ours, theirs = results["ours"], results["kolibri"]
    table: dict[str, Any] = {}
    for key in ("start_s", "rss_idle_mb", "rss_after_warmup_mb", "rss_peak_mb"):
        table[key] = {"ours": ours[key], "kolibri": theirs[key], "ratio": ratio(ours[key], theirs[key])}
    for scenario in SCENARIOS:
        a, b = ours["scenarios"].get(scenario.name, {}), theirs["scenarios"].get(scenario.name, {})
        for _, keys in ROWS:
            for one in keys:
                table[f"{scenario.name}.{one}"] = {"ours": a.get(one), "kolibri": b.get(one),
                                                   "ratio": ratio(a.get(one), b.get(one))}
    return table


def print_report(results: dict[str, dict[str, Any]], table: dict[str, Any]) -> None:
    def cell(value: Any) -> str:
        return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    print("\n" + f"{'':34} {'ours':>12} {'Kolibri':>12} {'ours/Kolibri':>13}")
    for key, label in (("start_s", "start to first 200, sign-in page s"), ("rss_idle_mb", "resident MB, idle"),
                       ("rss_after_warmup_mb", "resident MB, after warm-up"), ("rss_peak_mb", "resident MB, peak")):
        row = table[key]
        print(f"{label:34} {cell(row['ours']):>12} {cell(row['kolibri']):>12} {cell(row['ratio']):>13}")
    for scenario in SCENARIOS:
        note = "" if scenario.ours else "  (our hub has no presence call: Kolibri only)"
        print(f"-- {scenario.name}{note}")
        for label, keys in ROWS:
            rows = [table[f"{scenario.name}.{one}"] for one in keys]
            if all(r["ours"] is None and r["kolibri"] is None for r in rows):
                continue
            ours, theirs, ratios = (" / ".join(cell(r[k]) for r in rows) for k in ("ours", "kolibri", "ratio"))
            print(f"   {label:31} {ours:>12} {theirs:>12} {ratios:>13}")


# ----------------------------------------------------------------------------- main

def measure_both(args: argparse.Namespace, work: Path, venv: Path) -> dict[str, Any]:
    """The measuring half: provision, then each server in turn, then the check; prints the report."""
    contender, hub = our_hub(args, work)
    kolibri_contender, made = kolibri_classroom(args, work, venv)
    first_id = bench.baseline(hub.data / "hub.sqlite3")
    cores = load.pin_loadgen(True)
    print(f"load generator on cores {cores}", flush=True)
    order = [contender, kolibri_contender] if args.order == "ours-first" else [kolibri_contender, contender]
    results = {one.name: measure(one, args, work) for one in order}
    check = bench.check_database(hub.data / "hub.sqlite3", first_id, results["ours"]["answers_ok"],
                                 results["ours"]["answers_failed"])
    for one in results.values():
        del one["answers_ok"], one["answers_failed"]
    table = comparison(results)
    print_report(results, table)
    print(f"\nour hub: {check['client_answers_200']} answers got a 200, {check['db_new_attempts']} new attempt "
          "events; "
          f"lost {check['lost']}, doubled {check['doubled']}, unexpected {check['unexpected']}, sequence gaps "
          f"{check['seq_gaps']}")
    correct = not (check["lost"] or check["doubled"] or check["unexpected"] or check["seq_gaps"])
    return {"date": time.strftime("%Y-%m-%d"), "kolibri_version": KOLIBRI_VERSION, "learners": args.learners,
            "seconds": args.seconds, "think": f"{args.think[0]:g}-{args.think[1]:g}",
            "python": platform.python_version(), "cpus": os.cpu_count(), "loadavg_end": os.getloadavg()[0],
            "netns": bool(args.inside), "kolibri_classroom": made, "ours_correct": correct, "ours_check": check,
            "ratios": {k: v["ratio"] for k, v in table.items() if v["ratio"] is not None},
            "ours": results["ours"], "kolibri": results["kolibri"]}


def netns_usable() -> bool:
    """Whether we can run in a network namespace that holds only loopback (root, unshare, ip)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "--net", "--", "ip", "link", "set", "lo", "up"],
                          capture_output=True).returncode == 0


def stop_leftovers(work: Path) -> None:
    """Stop any server the measuring half started and could not stop (it was killed, say), by pid,
    after checking the pid is still that server."""
    listed = work / SERVERS_FILE
    if not listed.exists():
        return
    for line in listed.read_text().splitlines():
        pid, name = int(line.split()[0]), line.split()[1]
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ("kolibri" if name == "kolibri" else "serve") in cmdline:
            print(f"stopping the {name} server left running (pid {pid})", file=sys.stderr)
            os.kill(pid, 15)
            for _ in range(150):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.2)
            else:
                os.kill(pid, 9)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load.stop_on_sigterm()
    if args.inside is not None:  # the measuring half, already in its namespace
        summary = measure_both(args, args.inside, args.kolibri_venv)
        installed = args.inside / INSTALL_FILE
        if installed.exists():
            summary["kolibri_install"] = json.loads(installed.read_text())
        print(load.json_line(summary))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-kolibri-"))
    inner: subprocess.Popen[bytes] | None = None
    code = 0
    try:
        venv = args.kolibri_venv
        install = None
        if venv is None:
            venv = work / "kolibri-venv"
            install = install_kolibri(venv)
            (work / INSTALL_FILE).write_text(json.dumps(install))
            print(f"installed in {install['install_s']} s, {install['venv_mb']} MB", flush=True)
        check_kolibri(venv)
        if not args.no_netns and netns_usable():
            print("the servers and the load generator run in a network namespace with loopback only", flush=True)
            command = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                       sys.executable, str(Path(__file__).resolve()), *(argv if argv is not None else sys.argv[1:]),
                       "--inside", str(work), "--kolibri-venv", str(venv)]
            inner = subprocess.Popen(command)
            code = inner.wait()
        else:
            print("no network namespace (needs root, unshare and ip, or --no-netns was given): "
                  "the host's loopback is used", flush=True)
            args.inside = None
            summary = measure_both(args, work, venv)
            if install:
                summary["kolibri_install"] = install
            print(load.json_line(summary))
    finally:
        if inner is not None and inner.poll() is None:
            inner.terminate()
            try:
                inner.wait(timeout=60)
            except subprocess.TimeoutExpired:
                inner.kill()
        stop_leftovers(work)
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
