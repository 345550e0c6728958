"""USB sync bundles, measured: a bundle's size per attempt, the hub's export, the district's import
on PostgreSQL, the hub reading the answer back, and the bundle written when nothing waits.

    python scripts/bench/bundles.py [--quick] [--attempts 100000] [--district-db URL] [--profile]

What it does:
1. Builds a hub in a temporary directory with --attempts answers made by the hub's own services
   and learning engine (``build_hub`` of scripts/bench/sync.py: 2 classes of 30 learners, the
   bundled packs as every class's courses, the events of a class interleaved as in a
   classroom), and enrols it with a district
   (``sync.district.app`` under waitress on a fresh PostgreSQL database, reached over 127.0.0.1
   for the enrolment only; then stopped: the bundles carry everything else).
2. Export: ``classroom_server.services.bundles.export`` writes a bundle of every event the
   district has not acknowledged (all of them) into an empty folder on this machine's disk (the
   file is fsynced, as on a stick). Wall seconds and CPU seconds of the call, and the process's
   peak resident memory during the call (VmHWM, reset to VmRSS just before it; ``*_rss_growth_mb``
   is the peak less the resident memory before). ``bundle_bytes_per_attempt``
   is the size of the whole bundle file (ZIP, manifest, signature, the pack manifests, every
   event of every kind) divided by the attempt events it holds; ``bundle_bytes_per_10k_attempts``
   is that times 10,000; ``bundle_bytes_per_event`` divides by all its events, and
   ``segment_bytes_per_event`` counts the event segments alone (the push batches, as a network
   push sends them as request bodies).
3. District import: ``sync.district.bundles.import_bundles`` on another fresh PostgreSQL
   database (the same district: the hub enrolled there), run in one process with no HTTP:
   opening and checking the bundle, every segment through the network path's ``service.push``
   (decode, check each event, insert, commit), the manifests, the district's changes and shared
   events, and writing the return bundle into a folder. Wall and CPU seconds (the CPU of this
   process, not of the PostgreSQL server), events per second, peak memory. The district must then
   hold every event of the hub. For comparison under the same conditions, the bundle's event
   segments are then applied with ``service.push`` alone to a third fresh database (``apply_rate``
   of scripts/bench/sync.py, the network path's "district apply rate"): ``push_only_events_per_s``.
4. Read-back: ``bundles.read_back`` of the return bundle on the hub (acknowledgements and the
   district's changes stored): wall and CPU seconds, peak memory, and what waits afterwards.
5. Nothing to do: a second export right after the read-back, into another empty folder: its
   size, its events (what the read-back left waiting, if anything) and its time.
Steps 2 to 5 each run in a fresh child process (this script with --step), so the peak memory is
the step's own and not the hub building's; the child imports the hub's or the district's modules
and opens its database before the clock starts.

--quick makes 2,000 attempts instead of 100,000 (within a minute); --profile prints each step's
most expensive functions (cProfile, cumulative time; the times it prints are inflated by the
profiler). PostgreSQL is reached at --district-db (a server where this script may create and drop
its own databases; default postgresql://postgres@127.0.0.1:5432/postgres); if it cannot be
reached the district runs on SQLite and the JSON says so. Only 127.0.0.1 is contacted. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def say(message: str) -> None:
    print(message, flush=True)


def bench_sync() -> ModuleType:
    """scripts/bench/sync.py (its ``build_hub``, ``Databases``, ``District``, ``enrol``), loaded by
    path: under its own name it would be shadowed by the ``sync`` package."""
    name = "bench_sync"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("sync.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up while it runs
        spec.loader.exec_module(module)
    return sys.modules[name]


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def memory_mark() -> float:
    """This process's resident memory now (MB); its peak is reset to it where Linux allows, so
    ``peak_mb`` then says the peak from here on. (``ru_maxrss`` would not do: a child keeps its
    parent's peak across fork and exec.)"""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    now = _status_mb("VmRSS")
    return now if now is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_mb() -> float:
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- one step, in a child

def _export(hub: Path, folder: Path) -> Any:
    from classroom_server.db import db
    from classroom_server.services import bundles

    folder.mkdir(parents=True, exist_ok=True)

    def run() -> dict[str, Any]:
        exported = bundles.export(folder)
        return {"events": exported.events, "bytes": exported.bytes, "files": [str(p) for p in exported.paths]}

    return db.connection_context(), run


def _read_back(hub: Path, path: Path) -> Any:
    from classroom_server.db import db
    from classroom_server.services import bundles

    def run() -> dict[str, Any]:
        back = bundles.read_back(path)
        outcome = back.outcome
        return {"newest": back.newest, "pulled": outcome.pulled, "shared": outcome.shared,
                "fetched_back": outcome.fetched_back, "quarantined": outcome.quarantined,
                "waiting": outcome.waiting, "notes": (back.notes + outcome.notes)[:5]}

    return db.connection_context(), run


def _import(url: str, return_to: Path, paths: list[Path]) -> Any:
    from sync.district.bundles import import_bundles
    from sync.district.models import connect

    return_to.mkdir(parents=True, exist_ok=True)
    database = connect(url)

    def run() -> dict[str, Any]:
        results, refused = import_bundles(paths, return_to)
        if refused or len(results) != 1:
            raise RuntimeError(f"the district refused the bundle: {[r.message for r in refused]}")
        [result] = results
        if result.return_path is None:
            raise RuntimeError(f"no return bundle: {result.return_problem}")
        return {"taken": result.taken, "held": result.held, "quarantined": result.quarantined,
                "waiting": result.waiting[:5], "notes": result.notes[:5], "changes": result.changes,
                "shared": result.shared, "packs": result.packs, "returned": result.returned,
                "return_path": str(result.return_path), "return_bytes": result.return_path.stat().st_size}

    return database.connection_context(), run


def run_step(step: str, args: list[str], profile: bool) -> dict[str, Any]:
    """One step, timed; its database is open before the clock starts."""
    if step in ("export", "read_back"):
        from classroom_server import db as database

        database.configure(database.database_path(Path(args[0])))
        context, run = (_export if step == "export" else _read_back)(Path(args[0]), Path(args[1]))
    elif step == "import":
        context, run = _import(args[0], Path(args[1]), [Path(a) for a in args[2:]])
    else:
        raise SystemExit(f"no step {step}")
    with context:
        if step == "import":
            from sync.district import service

            held_before = service.counts()["events"]
        rss_before = memory_mark()
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        done = run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(18)
        peak_after = peak_mb()
        if step == "import":
            done["district_events"] = service.counts()["events"] - held_before
    return {**done, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "rss_mb_before": round(rss_before, 1),
            "peak_rss_mb": round(peak_after, 1)}


def child(step: str, *args: str, profile: bool = False) -> dict[str, Any]:
    """Run a step in a fresh Python process; what it printed before its JSON line is passed on."""
    command = [sys.executable, str(Path(__file__).resolve()), "--step", step, *args]
    if profile:
        command.append("--profile")
    done = subprocess.run(command, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the {step} step failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    for line in lines[:-1]:
        say("    " + line)
    return dict(json.loads(lines[-1]))


def segment_bodies(paths: list[str]) -> list[bytes]:
    """The event segments of the bundle files (push batches), in log order."""
    bodies = []
    for path in paths:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if n.startswith("events/"))
            bodies += [archive.read(name) for name in names]
    return bodies


def segment_bytes(paths: list[str]) -> tuple[int, int]:
    """Bytes of the event segments and of the pack manifests member in the bundle files."""
    events = manifests = 0
    for path in paths:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.startswith("events/"):
                    events += info.file_size
                elif info.filename.startswith("manifests.json"):
                    manifests += info.file_size
    return events, manifests


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 attempts: within a minute")
    parser.add_argument("--attempts", type=int, help="answers in the hub's log (default 100000; --quick 2000)")
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--district-db", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server where this script may create and drop databases")
    parser.add_argument("--profile", action="store_true", help="print each step's most expensive functions")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(run_step(args.step[0], args.step[1:], args.profile)))
        return {}
    bench = bench_sync()
    attempts = args.attempts or (2000 if args.quick else 100_000)
    result: dict[str, Any] = {"attempts": attempts, "quick": args.quick}
    phases: dict[str, float] = {}
    began = mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 1)
        mark = now

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bundle-bench-") as tmp_name:
        tmp = Path(tmp_name)
        databases = bench.Databases(args.district_db, tmp)
        result["district_db"] = databases.kind
        if databases.problem:
            result["district_db_problem"] = databases.problem
        try:
            say(f"building a hub with {attempts} attempts ...")
            hub = bench.build_hub(tmp / "hub", attempts, classes=args.classes, class_size=args.class_size,
                                  seed=args.seed, log=lambda m: say("  " + m))
            result.update(hub_events=hub.events, hub_attempts=hub.attempts)
            phase("build_hub")

            say("enrolling the hub with a district ...")
            from sync.transport import HttpTransport

            url = databases.fresh()
            district = bench.District(url, bench._free_port(), tmp / "district.log")
            try:
                address = f"http://{bench.HOST}:{district.port}"
                transport = HttpTransport(address)
                bench.enrol(hub.data, district, transport, address)
                transport.close()
            finally:
                district.stop()
            phase("enrol")

            say("export ...")
            exported = child("export", str(hub.data), str(tmp / "stick"), profile=args.profile)
            events_bytes, manifests_bytes = segment_bytes(exported["files"])
            size = exported["bytes"]
            result.update(
                bundle_files=len(exported["files"]), bundle_events=exported["events"], bundle_bytes=size,
                bundle_bytes_per_10k_attempts=round(size / hub.attempts * 10_000),
                bundle_bytes_per_attempt=round(size / hub.attempts, 1),
                bundle_bytes_per_event=round(size / exported["events"], 1),
                segment_bytes_per_event=round(events_bytes / exported["events"], 1),
                bundle_manifests_member_bytes=manifests_bytes,
                export_wall_s=exported["wall_s"], export_cpu_s=exported["cpu_s"],
                export_events_per_s=round(exported["events"] / exported["wall_s"]),
                export_peak_rss_mb=exported["peak_rss_mb"],
                export_rss_growth_mb=round(exported["peak_rss_mb"] - exported["rss_mb_before"], 1),
            )
            phase("export")

            say("district import ...")
            imported = child("import", url, str(tmp / "returns"), *exported["files"], profile=args.profile)
            if imported["taken"] != exported["events"] or imported["district_events"] != exported["events"]:
                raise RuntimeError(f"the district took {imported['taken']} events and holds "
                                   f"{imported['district_events']}; the bundle has {exported['events']}")
            result.update(
                import_wall_s=imported["wall_s"], import_cpu_s=imported["cpu_s"],
                import_events_per_s=round(imported["taken"] / imported["wall_s"]),
                import_peak_rss_mb=imported["peak_rss_mb"],
                import_rss_growth_mb=round(imported["peak_rss_mb"] - imported["rss_mb_before"], 1),
                import_taken=imported["taken"], import_quarantined=imported["quarantined"],
                import_waiting=imported["waiting"], import_changes=imported["changes"],
                return_bytes=imported["return_bytes"],
            )
            phase("import")

            say("the same segments through service.push alone ...")
            bodies = segment_bodies(exported["files"])
            pushed = bench.apply_rate(databases.fresh(), bodies)
            if pushed["held"] != exported["events"]:
                raise RuntimeError(f"service.push alone left {pushed['held']} events; the bundle has "
                                   f"{exported['events']}")
            result.update(bundle_segments=len(bodies), push_only_seconds=pushed["seconds"],
                          push_only_events_per_s=pushed["events_per_s"])
            phase("push_only")

            say("read-back on the hub ...")
            back = child("read_back", str(hub.data), imported["return_path"], profile=args.profile)
            result.update(
                read_back_wall_s=back["wall_s"], read_back_cpu_s=back["cpu_s"],
                read_back_peak_rss_mb=back["peak_rss_mb"], read_back_pulled=back["pulled"],
                waiting_after_read_back=back["waiting"], read_back_notes=back["notes"],
            )
            phase("read_back")

            say("a second export, nothing waiting ...")
            empty = child("export", str(hub.data), str(tmp / "stick-2"), profile=args.profile)
            result.update(
                empty_bundle_events=empty["events"], empty_bundle_bytes=empty["bytes"],
                empty_export_ms=round(empty["wall_s"] * 1000, 1), empty_export_cpu_ms=round(empty["cpu_s"] * 1000, 1),
            )
            phase("empty_export")
        finally:
            databases.drop_all()
    result.update(seconds=round(time.monotonic() - began, 1), phase_seconds=phases, cpus=os.cpu_count(),
                  load_average_before_after=[round(load_before, 2), round(os.getloadavg()[0], 2)])
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
