"""A learner's sign-in, step by step: the hub's CPU for each page, from "I am a learner" to My path.

    python scripts/bench/sign_in.py [--rounds 3]

(To measure another version, run its own copy from its checkout: `PYTHONPATH=. python
scripts/bench/sign_in.py`.)

Builds the demo school in a temporary directory (`classroom-server demo --no-serve`: 30 learners
in a class signing in with pictures and a class with PINs), then signs every learner in, --rounds
times, through the real HTTP handler (Flask's test client, in this process: no network, no
waitress), as a child's browser does: the classes, the class's names, the learner's page, the
pictures or the PIN, then My path. Each step's CPU time is taken in this thread
(``time.thread_time``, which other work on the machine inflates far less than wall time). The
learner hash is the real one (no test switch), so its cost is counted.

The pictures are posted as the page asks: once, with the first two taps, where the page loads
signin.js (which keeps the first taps on the device), and one POST a tap on a hub without it. So
the same script measures a version of the hub before that script and after it. The last line is
one JSON object: per step, the median CPU ms, and the sum of the medians for a picture sign-in
and a PIN sign-in, My path included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="times every demo learner signs in (default 3)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    from classroom_server.app import create_app
    from classroom_server.db import db

    steps: dict[str, list[float]] = {}

    def timed(label: str, request: Callable[[], Any], expect: int = 200) -> Any:
        working = time.thread_time()
        response = request()
        steps.setdefault(label, []).append((time.thread_time() - working) * 1000)
        if response.status_code != expect:
            raise SystemExit(f"{label}: {response.status_code}, expected {expect}")
        return response

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "hub"
        root = Path(__file__).resolve().parents[2]  # this checkout's hub builds it, whatever is installed
        subprocess.run([sys.executable, "-m", "classroom_server.cli", "demo", "--data", str(data), "--no-serve"],
                       check=True, capture_output=True,
                       env=dict(os.environ, CLASSROOM_LOG_LEVEL="warning", PYTHONPATH=str(root)))
        logins = json.loads((data / "demo-logins.json").read_text())
        app = create_app(data, {"log_level": "warning"})
        for _ in range(args.rounds):
            for classroom in logins["classes"]:
                for learner in classroom["learners"]:
                    client = app.test_client()
                    timed("classes page", lambda: client.get("/login/learner"))
                    timed("names page", lambda: client.get(f"/login/learner/{classroom['id']}"))
                    path = f"/login/learner/{classroom['id']}/{learner['id']}"
                    page = timed("pictures or PIN page", lambda: client.get(path)).get_data(as_text=True)
                    token = TOKEN.search(page).group(1)
                    secret = learner["secret"]
                    if classroom["kind"] == "pin":
                        timed("PIN POST", lambda: client.post(path, data={"csrf_token": token, "pin": secret}), 302)
                    elif "signin.js" in page:  # the first taps kept on the device, the last posts them all
                        form = {"csrf_token": token, "so_far": ",".join(secret[:-1]), "pick": secret[-1]}
                        timed("pictures POST", lambda: client.post(path, data=form), 302)
                    else:  # a tap, a POST
                        chosen: list[str] = []
                        for n, pick in enumerate(secret):
                            last = n == len(secret) - 1
                            form = {"csrf_token": token, "so_far": ",".join(chosen), "pick": pick}
                            timed("pictures POST" if last else "picture tap POST",
                                  lambda: client.post(path, data=form), 302 if last else 200)
                            chosen.append(pick)
                    timed("first My path", lambda: client.get("/learn/"))
        db.close_all()

    medians = {label: round(statistics.median(values), 2) for label, values in steps.items()}
    for label, values in steps.items():
        print(f"{label:22s} {len(values):4d} requests  CPU p50 {medians[label]:6.2f} ms  max {max(values):6.2f} ms")
    common = medians["classes page"] + medians["names page"] + medians["pictures or PIN page"] + medians["first My path"]
    taps = 2 * medians.get("picture tap POST", 0.0)
    result = {
        "rounds": args.rounds, "steps_cpu_ms_p50": medians,
        "picture_sign_in_cpu_ms": round(common + taps + medians["pictures POST"], 2),
        "picture_sign_in_requests": 5 + (2 if taps else 0),
        "pin_sign_in_cpu_ms": round(common + medians["PIN POST"], 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
