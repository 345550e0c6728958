"""A classroom of simulated learners answering practice items against a real hub, on loopback.

    python scripts/bench/answers.py [--learners 40] [--seconds 60] [--think 1-3] [--threads N]

What it does:
1. `classroom-server demo --data DIR --no-serve` builds the demo school in a temporary directory
   (30 learners in 2 classes, both bundled packs, 3 days of simulated practice).
2. `classroom-server serve` starts on a free port on 127.0.0.1 (waitress, the hub's default
   threads unless --threads is given, default logging).
3. When --learners is above 30, the class teachers sign in and add the missing learners through
   the real "Add a learner" form, reading each new picture password or PIN from the card it shows.
   Every simulated learner is then a different learner.
4. Login storm: all learners are released together and sign in as a child does: class, name, then
   3 picture taps (one POST where the page's script keeps the first taps on the device, as a
   browser does; 3 POSTs on a hub without it) or a PIN, each form with its CSRF token.
5. Load phase, for --seconds: each learner opens My path (GET /learn/), follows its first practice
   item link, GETs the item page, POSTs an answer built from the pack's own key (right, with
   probability --right) or a plausible wrong answer, and reads the feedback page; then, as a child
   does, taps its "Next", which leads straight to the path's next activity (the feedback page
   names it), so one answer is 2 requests: the item page and the answer. A lesson or worked
   example it leads to is opened and marked done, and "Done" is followed as a browser does
   (/learn/next, then the activity it sends to). My path is opened again only when "Next" leads
   there: at "time for a break" (15 items a session) the learner chooses "Keep going"; with
   nothing on the path, signs out and in again. A learner pauses for the think time before each
   answer and each new page.
6. Checks: every answer the clients got a 200 for is in the event log exactly once (compared by
   event id), no other attempt appeared, the per-origin sequence is gapless, and
   `classroom-server recompute --check` finds the stored mastery equal to a rebuild.

Latency is measured on the client, from sending a request to having read the whole response.
Server CPU comes from /proc/<pid>/stat. Resident memory comes from /proc/<pid>/status:
server_rss_mb is the peak VmRSS sampled every 0.5 s during the login storm and the load phase;
server_hwm_mb is VmHWM, the peak over the server's whole life, which also includes the teachers'
password sign-in while learners are added (a scrypt hash briefly takes about 32 MB). The server's
own time per request (without waiting in waitress's queue) is read from its request log. Only 127.0.0.1 is ever contacted; every loop is bounded by
--seconds and --max-requests. The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import requests

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0
TICKS = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- helpers

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _cli() -> list[str]:
    found = shutil.which("classroom-server", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "classroom_server.cli"]


def _proc_status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            values[key] = int(rest.split()[0])
    return values


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def _parse_think(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    a, b = float(low), float(high or low)
    if a < 0 or b < a:
        raise argparse.ArgumentTypeError("think time is SECONDS or MIN-MAX, e.g. 1-3 or 0")
    return a, b


class Page(HTMLParser):
    """The forms (action, hidden fields) and links of one of the hub's pages."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self.path_links: list[str] = []
        self.go_link: str | None = None  # the page's main way on ("Next" on a feedback page)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.data_secret: str | None = None
        self._in_path = False
        self._link: list[Any] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "id": a.get("id", ""),
                               "class": a.get("class", ""), "hidden": []})
        elif tag == "input" and a.get("type") == "hidden" and self.forms:
            self.forms[-1]["hidden"].append((a.get("name", ""), a.get("value", "")))
        elif tag == "ul" and "path" in a.get("class", "").split():
            self._in_path = True
        elif tag == "a" and "href" in a:
            if self._in_path:
                self.path_links.append(a["href"])
            if "go" in a.get("class", "").split() and self.go_link is None:
                self.go_link = a["href"]
            self._link = [a["href"], ""]
        if "data-secret" in a:
            self.data_secret = a["data-secret"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self._in_path = False
        elif tag == "a" and self._link is not None:
            self.links.append((self._link[0], " ".join(self._link[1].split())))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link[1] += data

    def form(self, **match: str) -> dict[str, Any] | None:
        for form in self.forms:
            if all(form.get(k) == v or (k == "class" and v in form["class"].split()) for k, v in match.items()):
                return form
        return None

    def csrf(self) -> str:
        for form in self.forms:
            for name, value in form["hidden"]:
                if name == "csrf_token":
                    return value
        raise ValueError("no CSRF token on the page")


# ----------------------------------------------------------------------------- recording

class Stats:
    def __init__(self, max_requests: int) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.requests = 0
        self.max_requests = max_requests
        self.answers_ok: list[str] = []  # event ids answered with 200
        self.answers_failed: list[str] = []  # event ids whose POST failed on the client
        self.verdicts_wrong = 0
        self.relogins = 0
        self.breaks = 0  # "Keep going" chosen at a break
        self.lessons = 0
        self.logins: list[float] = []
        self.login_failures = 0

    def over_budget(self) -> bool:
        return self.requests >= self.max_requests

    def error(self, label: str, message: str) -> None:
        with self.lock:
            self.errors[label] += 1
            if len(self.samples) < 20:
                self.samples.append(f"{label}: {message}")


class LearnerError(Exception):
    pass


def timed(stats: Stats, session: requests.Session, label: str, method: str, path: str,
          expect: tuple[int, ...] = (200,), **kwargs: Any) -> requests.Response:
    """One request to the hub, timed and recorded under ``label``; raises LearnerError on a surprise."""
    if not path.startswith("/"):
        raise LearnerError(f"not a path on the hub: {path!r}")
    with stats.lock:
        if stats.over_budget():
            raise LearnerError("request budget used up")
        stats.requests += 1
    started = time.perf_counter()
    try:
        response = session.request(method, f"http://{HOST}:{session.port}{path}",  # type: ignore[attr-defined]
                                   allow_redirects=False, timeout=REQUEST_TIMEOUT, **kwargs)
        _ = response.content
    except requests.RequestException as exc:
        stats.error(label, f"{type(exc).__name__}: {exc}")
        raise LearnerError(str(exc)) from None
    elapsed = time.perf_counter() - started
    with stats.lock:
        stats.latency[label].append(elapsed)
    if response.status_code not in expect:
        stats.error(label, f"{method} {path} -> {response.status_code} {response.headers.get('Location', '')}")
        raise LearnerError(f"{method} {path} answered {response.status_code}")
    return response


def new_session(port: int) -> requests.Session:
    session = requests.Session()
    session.port = port  # type: ignore[attr-defined]
    session.headers["User-Agent"] = "classroom-bench/1"
    return session


# ----------------------------------------------------------------------------- the hub

def build_demo(data: Path) -> dict[str, Any]:
    subprocess.run(_cli() + ["demo", "--data", str(data), "--no-serve"], check=True,
                   capture_output=True, env=dict(os.environ, CLASSROOM_LOG_LEVEL="warning"))
    return json.loads((data / "demo-logins.json").read_text())


def start_server(data: Path, port: int, threads: int | None, log_file: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    command = _cli() + ["serve", "--data", str(data), "--host", HOST, "--port", str(port)]
    if threads:
        command += ["--threads", str(threads)]
    with open(log_file, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server exited during start; see {log_file}")
        time.sleep(0.05)
    server.terminate()
    raise RuntimeError("the server did not answer /healthz within 30 s")


def staff_session(stats: Stats, port: int, username: str, password: str) -> requests.Session:
    session = new_session(port)
    page = Page(timed(stats, session, "setup", "GET", "/login/staff").text)
    timed(stats, session, "setup", "POST", "/login/staff", expect=(302, 303),
          data={"csrf_token": page.csrf(), "username": username, "password": password, "next": ""})
    return session


def add_learners(stats: Stats, port: int, logins: dict[str, Any], wanted: int) -> list[dict[str, Any]]:
    """Every learner of the demo, plus new ones added by their teachers until there are ``wanted``."""
    people: list[dict[str, Any]] = []
    for entry in logins["classes"]:
        for learner in entry["learners"]:
            people.append({"class_id": entry["id"], "kind": entry["kind"], "id": learner["id"],
                           "name": learner["name"], "secret": learner["secret"]})
    passwords = {s["username"]: s["password"] for s in logins["staff"]}
    missing = max(0, wanted - len(people))
    teachers: dict[str, requests.Session] = {}
    added: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for n in range(missing):
        entry = logins["classes"][n % len(logins["classes"])]
        teacher = entry["teacher"]
        if teacher not in teachers:
            teachers[teacher] = staff_session(stats, port, teacher, passwords[teacher])
        session = teachers[teacher]
        class_page = Page(timed(stats, session, "setup", "GET", f"/teach/classes/{entry['id']}").text)
        name = f"Bench {len(people) + 1 + n:02d}"
        card = Page(timed(stats, session, "setup", "POST", f"/teach/classes/{entry['id']}/learners",
                          expect=(201,), data={"csrf_token": class_page.csrf(), "display_name": name,
                                               "avatar": "blue"}).text)
        if card.data_secret is None:
            raise RuntimeError("the new learner's card shows no secret")
        secret: Any = card.data_secret.split(",") if entry["kind"] == "picture" else card.data_secret
        added[entry["id"]].append({"class_id": entry["id"], "kind": entry["kind"], "name": name, "secret": secret})
    anonymous = new_session(port)
    for class_id, new in added.items():
        names = Page(timed(stats, anonymous, "setup", "GET", f"/login/learner/{class_id}").text)
        ids = {text: href.rstrip("/").rsplit("/", 1)[1] for href, text in names.links
               if href.startswith(f"/login/learner/{class_id}/")}
        for person in new:
            match = [v for k, v in ids.items() if k.endswith(person["name"])]
            if len(match) != 1:
                raise RuntimeError(f"cannot find the new learner {person['name']} on the class's sign-in page")
            person["id"] = int(match[0])
            people.append(person)
    return people


# ----------------------------------------------------------------------------- one learner

class Learner:
    def __init__(self, n: int, who: dict[str, Any], port: int, stats: Stats, answers: "AnswerBook",
                 think: tuple[float, float], right: float, accept: str, seed: int) -> None:
        self.n, self.who, self.port, self.stats, self.book = n, who, port, stats, answers
        self.think_range, self.right, self.accept = think, right, accept
        self.rng = random.Random(seed)
        self.session = new_session(port)
        self.signed_in = False
        self.next_link: str | None = None  # where the last page's "Next" (or "Done") leads

    def sign_in(self, label: str = "login") -> None:
        """Class, name, then 3 picture taps or a PIN: the same forms a child's tablet submits (one
        POST for the pictures where the page's script keeps the first taps, one a tap where not)."""
        self.session.cookies.clear()
        started = time.perf_counter()
        who = self.who
        timed(self.stats, self.session, f"{label} GET", "GET", "/login/learner")
        timed(self.stats, self.session, f"{label} GET", "GET", f"/login/learner/{who['class_id']}")
        path = f"/login/learner/{who['class_id']}/{who['id']}"
        text = timed(self.stats, self.session, f"{label} GET", "GET", path).text
        page = Page(text)
        if who["kind"] == "picture" and "signin.js" in text:
            # what the page's script does in a browser: the first taps stay on the device, the last posts them all
            *first, last_pick = who["secret"]
            response = timed(self.stats, self.session, f"{label} POST", "POST", path, expect=(302,),
                             data={"csrf_token": page.csrf(), "so_far": ",".join(first), "pick": last_pick})
        elif who["kind"] == "picture":  # a hub without that script: each tap posts, as a form does
            so_far: list[str] = []
            for pick in who["secret"]:
                last = len(so_far) == len(who["secret"]) - 1
                response = timed(self.stats, self.session, f"{label} POST", "POST", path,
                                 expect=(302,) if last else (200,),
                                 data={"csrf_token": page.csrf(), "so_far": ",".join(so_far), "pick": pick})
                so_far.append(pick)
                if not last:
                    page = Page(response.text)
        else:
            response = timed(self.stats, self.session, f"{label} POST", "POST", path, expect=(302,),
                             data={"csrf_token": page.csrf(), "pin": who["secret"]})
        if not response.headers.get("Location", "").endswith("/learn/"):
            raise LearnerError(f"sign-in went to {response.headers.get('Location')!r}, not /learn/")
        with self.stats.lock:
            self.stats.logins.append(time.perf_counter() - started)
        self.signed_in = True

    def think(self, deadline: float) -> bool:
        """Pause like a child reading the page; False when the run is over."""
        low, high = self.think_range
        pause = self.rng.uniform(low, high) if high > 0 else 0.0
        remaining = deadline - time.monotonic()
        if pause > 0:
            time.sleep(max(0.0, min(pause, remaining)))
        return time.monotonic() < deadline

    def step(self, deadline: float) -> None:
        """The item the last "Next" leads to; else My path, then one activity from it."""
        stats, session = self.stats, self.session
        link, self.next_link = self.next_link, None
        if link and self.signed_in and link.startswith("/learn/item/"):
            self.answer_item(link, deadline)
            return
        if link and self.signed_in and link.startswith(("/learn/lesson/", "/learn/example/")):
            self.open_other(link, deadline)
            return
        home = Page(timed(stats, session, "GET /learn/ (my path)", "GET", "/learn/").text)
        items = [h for h in home.path_links if h.startswith("/learn/item/")]
        others = [h for h in home.path_links if h.startswith(("/learn/lesson/", "/learn/example/"))]
        going = home.form(action="/learn/keep-going")
        if not items and not others and going is not None:  # "time for a break": the learner keeps going
            if self.think(deadline):
                self.follow(timed(stats, session, "POST keep going", "POST", "/learn/keep-going", expect=(302,),
                                  data=dict(going["hidden"])))
                with stats.lock:
                    stats.breaks += 1
            return
        if not items and not others:  # nothing to do: sign out and in again
            timed(stats, session, "relogin POST", "POST", "/logout", expect=(302,),
                  data={"csrf_token": home.csrf()})
            with stats.lock:
                stats.relogins += 1
            self.signed_in = False
            if self.think(deadline):
                self.sign_in("relogin")
            return
        if not self.think(deadline):
            return
        if not items:
            self.open_other(others[0], deadline)
            return
        self.answer_item(items[0], deadline)

    def open_other(self, link: str, deadline: float) -> None:
        """A lesson or worked example: open it, a think, "Done", on to where that leads."""
        stats, session = self.stats, self.session
        link = html.unescape(link)
        page = Page(timed(stats, session, "GET lesson or example", "GET", link).text)
        if not self.think(deadline):
            return
        done = page.form(**{"class": "actions"})
        self.follow(timed(stats, session, "POST lesson or example done", "POST", link.split("?")[0], expect=(302,),
                          data=dict(done["hidden"]) if done else {}))
        with stats.lock:
            stats.lessons += 1

    def follow(self, response: requests.Response) -> None:
        """Where a "Done" or "Keep going" leads: /learn/next, which sends the browser on to the
        path's next activity (one more request, as in a browser)."""
        going = response.headers.get("Location", "")
        if going.endswith("/learn/next"):
            going = timed(self.stats, self.session, "GET /learn/next", "GET", "/learn/next",
                          expect=(302,)).headers.get("Location", "")
        self.next_link = going or None

    def answer_item(self, link: str, deadline: float) -> None:
        """The item page, a think, the answer (its reply the feedback page, whose "Next" is kept)."""
        stats, session = self.stats, self.session
        link = html.unescape(link)
        pack_id, item_id = link.split("?")[0].split("/")[3:5]
        page = Page(timed(stats, session, "GET item page", "GET", link).text)
        form = page.form(id="item-form")
        if form is None:
            stats.error("GET item page", f"no answer form on {link}")
            raise LearnerError("no answer form")
        fields = list(form["hidden"])
        event_id = dict(fields).get("event_id", "")
        is_right = self.rng.random() < self.right
        fields += self.book.answer(pack_id, item_id, is_right, self.rng)
        if not self.think(deadline):
            return
        try:
            response = timed(stats, session, "POST answer", "POST", html.unescape(form["action"]), data=fields,
                             headers={"Accept": "application/json" if self.accept == "json" else "text/html"})
        except LearnerError:
            with stats.lock:
                stats.answers_failed.append(event_id)
            raise
        with stats.lock:
            stats.answers_ok.append(event_id)
            if self.accept == "json":
                verdict = response.json()
                if verdict.get("correct") is not is_right or verdict.get("event_id") != event_id:
                    stats.verdicts_wrong += 1
        if self.accept != "json":
            self.next_link = Page(response.text).go_link

    def run(self, storm: threading.Barrier, start: threading.Event, deadline_box: list[float]) -> None:
        try:
            storm.wait(timeout=60)
            self.sign_in()
        except (LearnerError, threading.BrokenBarrierError, ValueError) as exc:
            with self.stats.lock:
                self.stats.login_failures += 1
            self.stats.error("login", str(exc))
        start.wait(timeout=120)
        deadline = deadline_box[0]
        failures = 0
        while time.monotonic() < deadline and not self.stats.over_budget() and failures < 50:
            try:
                if not self.signed_in:
                    self.sign_in("relogin")
                self.step(deadline)
            except Exception as exc:  # noqa: BLE001 - any surprise is counted, the learner carries on
                failures += 1
                if "budget" in str(exc):
                    return
                if not isinstance(exc, LearnerError):
                    self.stats.error("client", f"{type(exc).__name__}: {exc}")
                self.signed_in = False
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


class AnswerBook:
    """Right and wrong answers for every installed item, built as the demo's simulated practice does."""

    def __init__(self, data: Path) -> None:
        from content_packs import Catalogue, load_pack

        folders = sorted(p.parent for p in (data / "packs").glob("*/pack.json"))
        self.catalogue = Catalogue([load_pack(folder, check=False) for folder in folders])

    def answer(self, pack_id: str, item_id: str, right: bool, rng: random.Random) -> list[tuple[str, str]]:
        from classroom_server.demo_practice import right_form, wrong_form

        item = self.catalogue.item(pack_id, item_id)
        form = right_form(item, "en") if right else wrong_form(item, "en", rng)
        pairs: list[tuple[str, str]] = []
        for name, value in form.items():
            for one in (value if isinstance(value, list) else [value]):
                pairs.append((name, str(one)))
        return pairs


# ----------------------------------------------------------------------------- checks

def check_database(db_file: Path, baseline_id: int, ok_ids: list[str], failed_ids: list[str]) -> dict[str, Any]:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        rows = [r[0] for r in conn.execute(
            "SELECT event_id FROM event WHERE kind = 'attempt' AND id > ?", (baseline_id,))]
        gaps = [origin for origin, count, low, high in conn.execute(
            "SELECT origin, count(*), min(seq), max(seq) FROM event GROUP BY origin")
            if low != 1 or high != count]
    stored, sent_ok = set(rows), set(ok_ids)
    return {
        "db_new_attempts": len(rows),
        "client_answers_200": len(ok_ids),
        "lost": len(sent_ok - stored),
        "doubled": len(rows) - len(stored) + (len(ok_ids) - len(sent_ok)),
        "unexpected": len(stored - sent_ok - set(failed_ids)),
        "recorded_despite_client_error": len(stored & set(failed_ids)),
        "seq_gaps": len(gaps),
    }


def baseline(db_file: Path) -> int:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM event").fetchone()[0])


def scan_log(log_file: Path, since: str) -> dict[str, Any]:
    """Problems in the server's log, and its own handler time (no queueing) for answers and pages."""
    text = log_file.read_text(errors="replace")
    handler: dict[str, list[float]] = defaultdict(list)
    for stamp, method, path, ms in re.findall(
            r"^(\S+ \S+) INFO classroom_server.request \S+ method=(\S+) path=(\S+) status=\d+ ms=([\d.]+)",
            text, re.M):
        if stamp < since:
            continue
        if method == "POST" and path.startswith("/learn/item/"):
            handler["answer"].append(float(ms) / 1000)
        elif method == "GET" and path == "/learn/":
            handler["my_path"].append(float(ms) / 1000)
        elif method == "GET" and path.startswith("/learn/item/"):
            handler["item_page"].append(float(ms) / 1000)
    return {
        **{f"handler_{k}_p50_ms": _ms(_percentile(v, 50)) for k, v in sorted(handler.items())},
        **{f"handler_{k}_p95_ms": _ms(_percentile(v, 95)) for k, v in sorted(handler.items())},
        "status_5xx": len(re.findall(r" status=5\d\d ", text)),
        "status_4xx": len(re.findall(r" status=4\d\d ", text)),
        "tracebacks": text.count("Traceback"),
        "locked_or_busy": len(re.findall(r"database is locked|SQLITE_BUSY|database is busy", text)),
        "waitress_queue_depth_max": max((int(n) for n in re.findall(r"Task queue depth is (\d+)", text)), default=0),
    }


# ----------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=40, help="simulated learners (default 40)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the load phase (default 60)")
    parser.add_argument("--think", type=_parse_think, default=(1.0, 3.0), metavar="MIN-MAX",
                        help="pause after every page, seconds: 1-3 (default), 2, or 0 for a stress run")
    parser.add_argument("--threads", type=int, default=None, help="server worker threads (default: the hub's)")
    parser.add_argument("--right", type=float, default=0.7, help="share of answers that are right (default 0.7)")
    parser.add_argument("--accept", choices=("html", "json"), default="html",
                        help="ask for the feedback page (html, as the browser does) or the JSON verdict")
    parser.add_argument("--max-requests", type=int, default=500_000, help="hard cap on requests")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and log")
    args = parser.parse_args()
    if not 1 <= args.learners <= 500 or not 0 < args.seconds <= 3600:
        parser.error("--learners must be 1..500 and --seconds 0..3600")

    work = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    data, log_file = work / "hub", work / "server.log"
    stats = Stats(args.max_requests)
    server = None
    try:
        print(f"building the demo school in {work} ...", flush=True)
        logins = build_demo(data)
        book = AnswerBook(data)
        port = _free_port()
        server = start_server(data, port, args.threads, log_file)
        pid = server.pid
        people = add_learners(stats, port, logins, args.learners)
        distinct = min(len(people), args.learners)
        print(f"server pid {pid} on {HOST}:{port}; {distinct} distinct learners "
              f"({max(0, distinct - 30)} added by their teachers)", flush=True)
        time.sleep(1)
        idle = _proc_status(pid)
        baseline_id = baseline(data / "hub.sqlite3")
        setup_requests = stats.requests
        stats.latency.pop("setup", None)

        storm = threading.Barrier(args.learners)
        start = threading.Event()
        deadline_box = [0.0]
        learners = [Learner(n, people[n % len(people)], port, stats, book, args.think, args.right,
                            args.accept, args.seed * 1000 + n) for n in range(args.learners)]
        threads = [threading.Thread(target=l.run, args=(storm, start, deadline_box), daemon=True) for l in learners]

        peak = {"rss": idle["VmRSS"], "threads": idle["Threads"]}
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.5):
                try:
                    now = _proc_status(pid)
                except OSError:
                    return
                peak["rss"] = max(peak["rss"], now["VmRSS"])
                peak["threads"] = max(peak["threads"], now["Threads"])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        storm_started = time.perf_counter()
        for t in threads:
            t.start()
        storm_deadline = time.monotonic() + 120
        while len(stats.logins) + stats.login_failures < args.learners and time.monotonic() < storm_deadline:
            time.sleep(0.01)
        storm_seconds = time.perf_counter() - storm_started
        login_latency = {k: list(v) for k, v in stats.latency.items() if k.startswith("login")}
        storm_times = list(stats.logins)
        for key in list(stats.latency):
            if key.startswith("login"):
                del stats.latency[key]
        stats.logins.clear()
        print(f"login storm: {args.learners} learners signed in in {storm_seconds:.2f} s "
              f"({stats.login_failures} failed)", flush=True)

        load_since = time.strftime("%Y-%m-%d %H:%M:%S")
        cpu0, client0, wall0 = _cpu_seconds(pid), time.process_time(), time.perf_counter()
        requests0 = stats.requests
        deadline_box[0] = time.monotonic() + args.seconds
        start.set()
        for t in threads:
            t.join(timeout=args.seconds + REQUEST_TIMEOUT + 30)
        wall = time.perf_counter() - wall0
        server_cpu = _cpu_seconds(pid) - cpu0
        client_cpu = time.process_time() - client0
        sampling.set()
        sampler.join(timeout=2)
        final = _proc_status(pid)
        peak["rss"] = max(peak["rss"], final["VmRSS"])
        stuck = sum(t.is_alive() for t in threads)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)

    correctness = check_database(data / "hub.sqlite3", baseline_id, stats.answers_ok, stats.answers_failed)
    recompute = subprocess.run(_cli() + ["recompute", "--data", str(data), "--check"],
                               capture_output=True, text=True, env=dict(os.environ, CLASSROOM_LOG_LEVEL="warning"))
    log_scan = scan_log(log_file, load_since)

    load_requests = stats.requests - requests0
    answers = stats.latency.get("POST answer", [])
    pages = stats.latency.get("GET /learn/ (my path)", []) + stats.latency.get("GET item page", [])
    everything = [x for v in stats.latency.values() for x in v]
    errors = sum(stats.errors.values())

    print(f"\nload phase: {wall:.1f} s, {load_requests} requests, {len(answers)} answers, "
          f"server CPU {100 * server_cpu / wall:.0f} % of one core, load generator CPU {100 * client_cpu / wall:.0f} %")
    print(f"{'request':34} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
    rows = dict(stats.latency)
    for label, values in login_latency.items():
        rows[f"{label} (storm)"] = values
    rows["sign-in, whole (storm)"] = storm_times
    if stats.logins:
        rows["sign-in, whole (relogin)"] = list(stats.logins)
    for label, values in sorted(rows.items()):
        print(f"{label:34} {len(values):6d} {_ms(_percentile(values, 50)) or 0:8.1f} "
              f"{_ms(_percentile(values, 95)) or 0:8.1f} {_ms(_percentile(values, 99)) or 0:8.1f} "
              f"{_ms(max(values) if values else None) or 0:8.1f} {stats.errors.get(label, 0):6d}")
    for sample_line in stats.samples:
        print("error sample:", sample_line)
    ok = (correctness["lost"] == 0 and correctness["doubled"] == 0 and correctness["unexpected"] == 0
          and correctness["seq_gaps"] == 0 and recompute.returncode == 0)
    print(f"\ncorrectness: {correctness['client_answers_200']} answers got a 200, "
          f"{correctness['db_new_attempts']} new attempt events in the database; lost {correctness['lost']}, "
          f"doubled {correctness['doubled']}, unexpected {correctness['unexpected']}, "
          f"sequence gaps {correctness['seq_gaps']}; recompute --check exit {recompute.returncode}: "
          f"{(recompute.stdout.strip().splitlines() or [''])[-1]}")
    print(f"server log: {log_scan}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)

    summary = {
        "learners": args.learners, "distinct_learners": distinct, "seconds": args.seconds,
        "think": f"{args.think[0]:g}-{args.think[1]:g}", "server_threads": args.threads or "default",
        "accept": args.accept,
        "answers": len(answers), "answers_per_s": round(len(answers) / wall, 2),
        "answer_p50_ms": _ms(_percentile(answers, 50)), "answer_p95_ms": _ms(_percentile(answers, 95)),
        "answer_p99_ms": _ms(_percentile(answers, 99)), "answer_max_ms": _ms(max(answers) if answers else None),
        "page_p50_ms": _ms(_percentile(pages, 50)), "page_p95_ms": _ms(_percentile(pages, 95)),
        "page_p99_ms": _ms(_percentile(pages, 99)), "page_max_ms": _ms(max(pages) if pages else None),
        "requests": load_requests, "requests_per_s": round(load_requests / wall, 1),
        "all_p50_ms": _ms(_percentile(everything, 50)), "all_p95_ms": _ms(_percentile(everything, 95)),
        "all_p99_ms": _ms(_percentile(everything, 99)), "all_max_ms": _ms(max(everything) if everything else None),
        "errors": errors, "login_failures": stats.login_failures, "relogins": stats.relogins, "breaks": stats.breaks,
        "lessons_or_examples": stats.lessons, "verdicts_wrong": stats.verdicts_wrong if args.accept == "json" else None,
        "login_storm_s": round(storm_seconds, 2), "login_p50_ms": _ms(_percentile(storm_times, 50)),
        "login_p95_ms": _ms(_percentile(storm_times, 95)),
        "server_cpu_pct": round(100 * server_cpu / wall, 1),
        "server_cpu_ms_per_req": round(1000 * server_cpu / load_requests, 2) if load_requests else None,
        "loadgen_cpu_pct": round(100 * client_cpu / wall, 1),
        "server_rss_mb": round(peak["rss"] / 1024, 1),
        "server_hwm_mb": round(final["VmHWM"] / 1024, 1),
        "server_rss_idle_mb": round(idle["VmRSS"] / 1024, 1), "server_rss_end_mb": round(final["VmRSS"] / 1024, 1),
        "server_threads_peak": peak["threads"], "stuck_clients": stuck, "setup_requests": setup_requests,
        "db_new_attempts": correctness["db_new_attempts"], "answers_lost": correctness["lost"],
        "answers_doubled": correctness["doubled"], "answers_unexpected": correctness["unexpected"],
        "recorded_despite_client_error": correctness["recorded_despite_client_error"],
        "seq_gaps": correctness["seq_gaps"], "recompute_check_ok": recompute.returncode == 0,
        "correct": ok, "server_5xx": log_scan["status_5xx"], "server_tracebacks": log_scan["tracebacks"],
        "sqlite_locked": log_scan["locked_or_busy"],
        "waitress_queue_depth_max": log_scan["waitress_queue_depth_max"],
        **{k: v for k, v in log_scan.items() if k.startswith("handler_")},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
