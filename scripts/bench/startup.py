"""Cold start of `classroom-server serve` to the first 200 on /healthz, and idle resident memory.

    python scripts/bench/startup.py [--runs 5] [--idle-seconds 3]

Each run makes a fresh data directory with `classroom-server init`, starts `serve` on a free
loopback port, polls /healthz until it answers 200, waits, then reads the server's VmRSS from
/proc. Prints one line per run and, as its last line, one JSON object with the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli() -> list[str]:
    found = shutil.which("classroom-server", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "classroom_server.cli"]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def one_run(idle_seconds: float) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    env = dict(os.environ, CLASSROOM_ADMIN_PASSWORD="bench-password-1", CLASSROOM_LOG_LEVEL="warning")
    subprocess.run(_cli() + ["init", "--data", str(data)], check=True, env=env, capture_output=True)
    port = _free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        _cli() + ["serve", "--data", str(data), "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("the server exited during start")
                time.sleep(0.005)
        start_seconds = time.perf_counter() - started
        time.sleep(idle_seconds)
        rss = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
    return {"start_seconds": start_seconds, "idle_rss_mb": rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    args = parser.parse_args()
    runs = []
    for i in range(args.runs):
        result = one_run(args.idle_seconds)
        runs.append(result)
        print(f"run {i + 1}: start {result['start_seconds']:.3f} s, idle RSS {result['idle_rss_mb']:.1f} MB")
    summary = {
        "start_seconds": round(statistics.median(r["start_seconds"] for r in runs), 3),
        "start_seconds_max": round(max(r["start_seconds"] for r in runs), 3),
        "idle_rss_mb": round(statistics.median(r["idle_rss_mb"] for r in runs), 1),
        "runs": args.runs,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
