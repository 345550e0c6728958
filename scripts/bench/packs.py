"""Pack import time, and the time and memory it takes to load a large pack's catalogue.

    python scripts/bench/packs.py [--runs 3] [--skills 500] [--items-per-skill 20]

1. Each pack in content_packs/library/ is imported with `classroom-server pack import` into a
   fresh hub (made with `classroom-server init`), --runs times; the wall time of the whole command
   is measured, so it includes starting Python. `classroom-server pack list` on the same hub is
   timed too, as the fixed cost of starting the command.
2. content_packs.testing.make_pack writes a generated pack (default 500 skills x 20 items =
   10,000 items, two languages) into a temporary folder; its import into a fresh hub is timed the
   same way (--big-runs times).
3. In a fresh Python process, the imported copy of that pack is loaded as the hub does at start
   (load_pack(check=False), then Catalogue) and the time and the growth of VmRSS are measured; then
   the learning engine's own view of it (engine_catalog) is added and measured the same way.

Prints one line per measurement and, as its last line, one JSON object with the results.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "content_packs" / "library"
ENV = dict(os.environ, CLASSROOM_ADMIN_PASSWORD="bench-password-1", CLASSROOM_LOG_LEVEL="warning")


def _cli() -> list[str]:
    found = shutil.which("classroom-server", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "classroom_server.cli"]


def _run(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(_cli() + args, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"classroom-server {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def _fresh_hub(parent: Path) -> Path:
    data = Path(tempfile.mkdtemp(prefix="hub-", dir=parent))
    _run(["init", "--data", str(data)])
    return data


def time_import(parent: Path, pack: Path, runs: int) -> tuple[list[float], list[float], Path]:
    """Import times and `pack list` times over ``runs`` fresh hubs; returns the last hub too."""
    imports, lists, data = [], [], parent
    for _ in range(runs):
        data = _fresh_hub(parent)
        imports.append(_run(["pack", "import", "--data", str(data), str(pack)]))
        lists.append(_run(["pack", "list", "--data", str(data)]))
    return imports, lists, data


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def measure_catalogue(folder: Path) -> None:
    """Run in a fresh process: load one pack as the hub does and report time and memory."""
    from content_packs import Catalogue, load_pack

    from classroom_server.learning.adapter import engine_catalog, engine_manifest, manifest_sha256

    gc.collect()
    before = _rss_kb()
    started = time.perf_counter()
    pack = load_pack(folder, check=False)
    catalogue = Catalogue([pack])
    load_seconds = time.perf_counter() - started
    gc.collect()
    after_catalogue = _rss_kb()
    started = time.perf_counter()
    manifest = engine_manifest(pack)  # what the hub stores at import, and builds the engine's view from
    key = manifest_sha256(manifest)
    installed = {"kind": "pack.installed", "payload": {"pack_id": pack.id, "version": pack.version, "manifest": key}}
    engine = engine_catalog([installed], {key: manifest})
    engine_seconds = time.perf_counter() - started
    gc.collect()
    after_engine = _rss_kb()
    assert catalogue.packs and engine is not None
    print(json.dumps({
        "skills": len(pack.skills), "items": len(pack.items),
        "catalogue_load_s": round(load_seconds, 3),
        "catalogue_rss_mb": round((after_catalogue - before) / 1024, 1),
        "engine_catalog_s": round(engine_seconds, 3),
        "engine_catalog_rss_mb": round((after_engine - after_catalogue) / 1024, 1),
        "process_rss_before_mb": round(before / 1024, 1), "process_rss_after_mb": round(after_engine / 1024, 1),
    }))


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="imports of each bundled pack (default 3)")
    parser.add_argument("--big-runs", type=int, default=1, help="imports of the generated pack (default 1)")
    parser.add_argument("--skills", type=int, default=500)
    parser.add_argument("--items-per-skill", type=int, default=20)
    parser.add_argument("--measure-catalogue", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_catalogue:
        measure_catalogue(args.measure_catalogue)
        return
    if not (1 <= args.runs <= 20 and 1 <= args.big_runs <= 10 and 1 <= args.skills <= 5000
            and 1 <= args.items_per_skill <= 200):
        parser.error("runs 1..20, big-runs 1..10, skills 1..5000, items-per-skill 1..200")

    work = Path(tempfile.mkdtemp(prefix="bench-packs-"))
    summary: dict[str, object] = {"bundled": {}}
    try:
        for pack in sorted(p for p in LIBRARY.iterdir() if (p / "pack.json").is_file()):
            imports, lists, _ = time_import(work, pack, args.runs)
            manifest = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
            entry = {"import_s": round(statistics.median(imports), 3), "import_s_max": round(max(imports), 3),
                     "cli_start_s": round(statistics.median(lists), 3), "size_mb": round(_du_mb(pack), 2),
                     "skills": len(manifest["skills"])}
            summary["bundled"][manifest["id"]] = entry  # type: ignore[index]
            print(f"{manifest['id']}: import {entry['import_s']:.2f} s median of {args.runs} "
                  f"(max {entry['import_s_max']:.2f}; `pack list` takes {entry['cli_start_s']:.2f} s), "
                  f"{entry['size_mb']} MB", flush=True)

        started = time.perf_counter()
        from content_packs.testing import make_pack

        big = make_pack(work / "generated", skills=args.skills, items_per_skill=args.items_per_skill)
        made = time.perf_counter() - started
        files = sum(1 for p in big.rglob("*") if p.is_file())
        print(f"generated pack: {args.skills} skills x {args.items_per_skill} items, {files} files, "
              f"{_du_mb(big):.1f} MB, written in {made:.1f} s", flush=True)
        imports, lists, hub = time_import(work, big, args.big_runs)
        print(f"generated pack: import {statistics.median(imports):.2f} s median of {args.big_runs} "
              f"(`pack list` then takes {statistics.median(lists):.2f} s)", flush=True)

        installed = [p.parent for p in (hub / "packs").glob("*/pack.json")]
        if len(installed) != 1:
            raise RuntimeError(f"expected one installed pack in {hub}, found {len(installed)}")
        measured = subprocess.run([sys.executable, __file__, "--measure-catalogue", str(installed[0])],
                                  check=True, capture_output=True, text=True)
        catalogue = json.loads(measured.stdout.strip().splitlines()[-1])
        print(f"catalogue of the generated pack in a fresh process: loaded in {catalogue['catalogue_load_s']} s, "
              f"+{catalogue['catalogue_rss_mb']} MB resident; the engine's view adds "
              f"{catalogue['engine_catalog_s']} s and +{catalogue['engine_catalog_rss_mb']} MB", flush=True)
        summary.update({
            "generated_skills": args.skills, "generated_items": args.skills * args.items_per_skill,
            "generated_files": files, "generated_size_mb": round(_du_mb(big), 1),
            "generated_import_s": round(statistics.median(imports), 2),
            "generated_import_s_max": round(max(imports), 2),
            "generated_pack_list_s": round(statistics.median(lists), 2),
            **{f"generated_{k}": v for k, v in catalogue.items() if k not in ("skills", "items")},
            "aim_import_under_10_s": statistics.median(imports) < 10,
            "aim_catalogue_under_30_mb": catalogue["catalogue_rss_mb"] < 30,
        })
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
