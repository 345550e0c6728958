"""A learner's waits on a slow phone and a slow link (#19), in real Chromium, with and without
the service worker.

    python scripts/bench/learner_throttled.py [--learners 5] [--rounds 3] [--cpu 4]
        [--latency-ms 400] [--kbps 400] [--offline-items 3] [--chromium /usr/bin/chromium]

What it does:
1. `classroom-server demo --data DIR --no-serve` builds the demo school in a temporary directory
   (30 learners in 2 classes: pictures and PINs, both bundled packs, 3 days of practice), and
   `classroom-server serve` starts it on a free port on 127.0.0.1 (waitress, default settings).
2. Chromium (through Playwright) gets a new browser context for every learner: a new phone,
   360 x 640, empty caches. Through the DevTools protocol, the page is slowed down
   (Emulation.setCPUThrottlingRate: --cpu times) and its network is emulated
   (Network.emulateNetworkConditions: --latency-ms added to every request, --kbps down and up).
   The page's emulation does not cover requests its service worker makes (the page's navigations
   that the worker answers with fetch(), and what it keeps ahead): the script attaches to the
   worker's own DevTools target as soon as it is registered and gives it the same network
   emulation (the worker gets no CPU slow-down: Chromium refuses it for workers). Requests the
   worker lets through (the answer, a POST) are the page's and throttled as the page's.
   The HTTP cache is on, as on a phone.
3. Each learner, in each mode ("sw_on": service worker allowed; "sw_off": blocked, with
   service_workers="block"), as a child does:
   - signs in: class, name, then taps the 3 pictures (or types the PIN and taps Go). Measured:
     from the last tap to My path usable: the first activity link shown, and the page's load
     event over (the later of the first contentful paint and loadEventEnd);
   - opens the first activity of the path (a lesson or worked example before it is marked done)
     up to a practice item; with the worker, waits until the device has kept the --activities
     the item page names (data-upcoming: the pages and every pack file they use, as in
     tests/browser/test_learner_journeys.py), and measures what they take in Cache Storage;
   - answers 2 items with the Wi-Fi (right, from the pack's key), each by "Check my answer":
     measured from the tap to the feedback shown (the verdict on the page, at the next frame);
     "Next" leads to the next item;
   - the Wi-Fi drops (offline: true on the page's emulation and the worker's): answers the item
     open, then, with the worker, up to --offline-items in all, each opened by the offline
     "Next" from the device's kept pages. Measured: "Check my answer" to the verdict the page
     gives from its own table (only items graded in the browser are counted), and the offline
     "Next" to the next kept item loaded;
   - the Wi-Fi comes back; signs out and signs in again on the same phone (its caches kept,
     and with the worker the path answered through it): sign-in to My path again.
   Rounds run the modes in turn (sw_on first in odd rounds), each with --learners learners
   (different learners where the demo has enough), so a busy machine weighs on both alike.
Times are taken in the page (performance.now(), a click listener in the capture phase), not
by the script. Only 127.0.0.1 is contacted. The last line printed is one JSON object: for each
mode the median (p50) and maximum of each wait over every learner and round, the median of
each round (to see the noise), and the offline bundle's size.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.bench.answers import HOST, AnswerBook, _free_port, build_demo, start_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
MODES = ("sw_on", "sw_off")
PATIENCE_MS = 120_000  # a throttled link keeping ten activities on a busy machine
TARGET_WAIT_S = 30.0

# In the page: when the tap happened, kept across a navigation (sessionStorage) and in the
# window (document.write of the feedback page keeps the window and its observers).
MARK_TAP_JS = """() => {
    window.__benchTap = null; window.__benchSeen = null;
    sessionStorage.removeItem('bench-tap');
    document.addEventListener('click', () => {
        const now = performance.timeOrigin + performance.now();
        window.__benchTap = now;
        sessionStorage.setItem('bench-tap', String(now));
    }, {capture: true, once: true});
}"""
# When an element matching the selector first appears, and the next frame after that.
WATCH_JS = """(selector) => {
    window.__benchSeen = null; window.__benchFrame = null;
    const look = () => {
        if (window.__benchSeen === null && document.querySelector(selector)) {
            window.__benchSeen = performance.timeOrigin + performance.now();
            requestAnimationFrame(() => { window.__benchFrame = performance.timeOrigin + performance.now(); });
        }
    };
    new MutationObserver(look).observe(document, {childList: true, subtree: true});
}"""
SHOWN_JS = """() => new Promise(done => {
    const until = Date.now() + 30000;
    const wait = () => (window.__benchFrame !== null || Date.now() > until)
        ? done({tap: window.__benchTap, seen: window.__benchSeen, frame: window.__benchFrame})
        : setTimeout(wait, 10);
    wait();
})"""
# A page loaded by navigation: the tap on the page before, and when this one was usable.
LOADED_JS = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const usable = Math.max(nav ? nav.loadEventEnd : 0, paint ? paint.startTime : 0);
    return {tap: parseFloat(sessionStorage.getItem('bench-tap') || 'NaN'),
            usable: performance.timeOrigin + usable, loaded: !!nav && nav.loadEventEnd > 0,
            from_worker: !!nav && nav.workerStart > 0};
}"""
WAIT_JS = """async ([predicate, arg, timeout]) => {
    const test = eval(predicate);
    const until = Date.now() + timeout;
    while (Date.now() < until) {
        if (await test(arg)) { return true; }
        await new Promise(resolve => setTimeout(resolve, 50));
    }
    return false;
}"""
# As tests/browser/test_learner_journeys.py counts what the device keeps.
KEPT_AHEAD_JS = """async (urls) => {
    for (const url of urls) {
        const page = await caches.match(url);
        if (!page) { return false; }
        const html = await page.clone().text();
        for (const m of html.matchAll(/\\s(?:src|href)="(\\/content\\/[^"]+)"/g)) {
            if (!await caches.match(m[1])) { return false; }
        }
    }
    return true;
}"""
KEPT_SIZE_JS = """async (urls) => {
    let pages = 0, files = 0;
    const seen = new Set();
    for (const url of urls) {
        const html = await (await caches.match(url)).text();
        pages += new Blob([html]).size;
        for (const m of html.matchAll(/\\s(?:src|href)="(\\/content\\/[^"]+)"/g)) {
            if (seen.has(m[1])) { continue; }
            seen.add(m[1]);
            files += (await (await caches.match(m[1])).arrayBuffer()).byteLength;
        }
    }
    let whole = 0, entries = 0;
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) {
            whole += (await (await cache.match(request)).arrayBuffer()).byteLength;
            entries += 1;
        }
    }
    return {pages, files, count: seen.size, whole, entries};
}"""
SENT_JS = "() => localStorage.getItem('classroom-answer-queue-' + document.body.dataset.learner) === '[]'"
CONTROLLED_JS = "() => navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)"
# A request the worker answers with fetch() and does not keep: it takes the link's latency only
# when the worker's own requests are throttled.
PROBE_JS = """() => { const t = performance.now();
    return fetch('/learn/offline?probe=' + Math.random(), {cache: 'no-store'}).then(r => r.text())
        .then(() => performance.now() - t); }"""


@dataclass
class Link:
    """The emulated phone and link, as given to Chromium."""

    cpu: float
    latency_ms: float
    kbps: float

    def conditions(self, offline: bool = False) -> dict[str, Any]:
        rate = self.kbps * 1000 / 8  # bytes per second
        return {"offline": offline, "latency": self.latency_ms, "downloadThroughput": rate,
                "uploadThroughput": rate}


@dataclass
class Run:
    """What one learner waited for, in one mode, in milliseconds."""

    mode: str
    round: int
    learner: str
    signin: float | None = None
    signin_again: float | None = None
    online: list[float] = field(default_factory=list)
    offline: list[float] = field(default_factory=list)
    offline_next: list[float] = field(default_factory=list)
    keep_ahead: float | None = None
    bundle: dict[str, int] | None = None
    upcoming: int | None = None
    probe: float | None = None
    hub_only_offline: int = 0
    problems: list[str] = field(default_factory=list)


class WorkerThrottle:
    """The service worker's own DevTools target, attached from the browser's session (the
    page's emulation does not reach the worker's requests). Messages go through
    Target.sendMessageToTarget, as Playwright's session is not flat for us."""

    def __init__(self, browser: Any) -> None:
        self.session = browser.new_browser_cdp_session()
        self.replies: dict[int, dict[str, Any]] = {}
        self.next_id = 1000
        self.attached: dict[str, str] = {}  # targetId -> sessionId
        self.session.on("Target.receivedMessageFromTarget", self._received)

    def _received(self, event: dict[str, Any]) -> None:
        message = json.loads(event["message"])
        if "id" in message:
            self.replies[message["id"]] = message

    def _send(self, page: Any, session_id: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        wanted = self.next_id
        self.session.send("Target.sendMessageToTarget", {
            "sessionId": session_id, "message": json.dumps({"id": wanted, "method": method, "params": params})})
        deadline = time.monotonic() + TARGET_WAIT_S
        while wanted not in self.replies:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service worker's target did not answer {method}")
            page.wait_for_timeout(20)  # lets Playwright deliver the reply event
        reply = self.replies.pop(wanted)
        if "error" in reply:
            raise RuntimeError(f"{method} on the service worker: {reply['error']}")
        return dict(reply.get("result", {}))

    def workers(self, context_id: str) -> list[str]:
        infos = self.session.send("Target.getTargets")["targetInfos"]
        return [t["targetId"] for t in infos
                if t["type"] == "service_worker" and t.get("browserContextId") == context_id]

    def throttle(self, page: Any, context_id: str, conditions: dict[str, Any]) -> int:
        """Every service worker of this browser context gets `conditions`; how many there are."""
        found = self.workers(context_id)
        for target in found:
            if target not in self.attached:
                self.attached[target] = self.session.send(
                    "Target.attachToTarget", {"targetId": target, "flatten": False})["sessionId"]
                self._send(page, self.attached[target], "Network.enable", {})
            self._send(page, self.attached[target], "Network.emulateNetworkConditions", conditions)
        return len(found)

    def forget(self, context_id: str) -> None:
        self.attached = {t: s for t, s in self.attached.items() if t in self.workers(context_id)}


class Phone:
    """One learner's browser context: the page, its DevTools session, the worker's throttle."""

    def __init__(self, browser: Any, throttle: WorkerThrottle, link: Link, sw: bool) -> None:
        self.context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=1,
                                           is_mobile=True, has_touch=True,
                                           service_workers="allow" if sw else "block")
        self.page = self.context.new_page()
        self.page.set_default_timeout(PATIENCE_MS)
        self.cdp = self.context.new_cdp_session(self.page)
        self.context_id = self.cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
        self.throttle, self.link, self.sw = throttle, link, sw
        self.cdp.send("Network.enable")
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": link.cpu})
        self.network(offline=False)

    def network(self, offline: bool) -> None:
        conditions = self.link.conditions(offline)
        self.cdp.send("Network.emulateNetworkConditions", conditions)
        if self.sw:
            self.throttle.throttle(self.page, self.context_id, conditions)

    def wait_until(self, predicate: str, arg: Any = None) -> None:
        if not self.page.evaluate(WAIT_JS, [predicate, arg, PATIENCE_MS]):
            raise RuntimeError(f"not true within {PATIENCE_MS} ms: {predicate[:80]}")

    def close(self) -> None:
        self.context.close()


def _since_tap(values: dict[str, Any], end: str) -> float:
    return round(float(values[end]) - float(values["tap"]), 1)


def sign_in(phone: Phone, base: str, who: dict[str, Any]) -> float:
    """Class and name, then the pictures or the PIN; ms from the last tap to My path usable."""
    page = phone.page
    page.goto(f"{base}/login/learner/{who['class_id']}/{who['id']}")
    if who["kind"] == "picture":
        pictures = list(who["secret"])
        for picture in pictures[:-1]:
            page.locator(f'button[data-picture="{picture}"]').click()
            page.wait_for_load_state()
        page.evaluate(MARK_TAP_JS)
        page.locator(f'button[data-picture="{pictures[-1]}"]').click()
    else:
        page.locator("input[name=pin]").fill(str(who["secret"]))
        page.evaluate(MARK_TAP_JS)
        page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/learn/")
    page.locator(".step.first").wait_for(state="visible")
    page.wait_for_load_state("load")
    shown = page.evaluate(LOADED_JS)
    if not shown["loaded"]:
        raise RuntimeError("My path's load event did not end")
    return _since_tap(shown, "usable")


def start_worker(phone: Phone) -> None:
    """Until the service worker controls My path, its requests throttled like the page's."""
    phone.wait_until("() => navigator.serviceWorker.ready.then(() => true)")
    deadline = time.monotonic() + TARGET_WAIT_S
    while not phone.throttle.throttle(phone.page, phone.context_id, phone.link.conditions()):
        if time.monotonic() > deadline:
            raise RuntimeError("no service worker target for this phone")
        phone.page.wait_for_timeout(50)
    if not phone.page.evaluate(CONTROLLED_JS):
        phone.page.reload()  # a page loading while the worker activated misses clients.claim()
    phone.wait_until(CONTROLLED_JS)


ITEM = re.compile(r"/learn/item/([^/]+)/([^/?#]+)")


def to_an_item(phone: Phone) -> bool:
    """From a lesson, worked example or break on the way, on to a practice item."""
    page = phone.page
    for _ in range(6):
        page.wait_for_load_state("load")
        if is_item_page(phone):
            return True
        if "/learn/lesson/" in page.url or "/learn/example/" in page.url:
            way_on = page.locator("button.go").first
        elif page.locator("form.step.break button").count():
            way_on = page.locator("form.step.break button")
        elif page.locator(".step.first").count():
            way_on = page.locator(".step.first")
        else:
            return False
        with page.expect_navigation(wait_until="load"):
            way_on.click()
    return is_item_page(phone)


def is_item_page(phone: Phone) -> bool:
    """An item's address, and its form on the page (not the offline page kept for it)."""
    return bool(ITEM.search(phone.page.url)) and phone.page.locator("#item-form").count() == 1


def fill_answer(phone: Phone, book: AnswerBook, rng: random.Random, right: bool = True) -> bool:
    """The pack's right answer (or a wrong one), tapped, typed or chosen; False when not a known item."""
    page = phone.page
    found = ITEM.search(page.url)
    if not found:
        return False
    try:
        pairs = book.answer(found.group(1), found.group(2), right, rng)
    except (KeyError, LookupError):
        return False
    if book.catalogue.item(found.group(1), found.group(2)).type == "ordering":  # the page: a number each
        pairs = [(f"rank.{option}", str(n)) for n, (_, option) in enumerate(pairs, start=1)]
    for name, value in pairs:
        field_ = page.locator(f'#item-form [name="{name}"]').first
        if not field_.count():
            shown = page.evaluate("() => [...document.querySelectorAll('#item-form [name]')].map(e => e.name)")
            raise RuntimeError(f"no field {name} on {page.url} (the form has {shown})")
        kind = field_.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind.startswith("select"):
            page.locator(f'#item-form select[name="{name}"]').select_option(value)
        elif kind in ("input:radio", "input:checkbox"):
            page.locator(f'#item-form input[name="{name}"][value="{value}"]').check()
        else:
            field_.fill(value)
    return True


def check(phone: Phone, selector: str) -> float:
    """ms from the tap on "Check my answer" to the frame after `selector` appeared."""
    page = phone.page
    page.evaluate(MARK_TAP_JS)
    page.evaluate(WATCH_JS, selector)
    page.locator("#item-form button[type=submit]").click()
    page.locator(selector).first.wait_for(state="visible")
    shown = page.evaluate(SHOWN_JS)
    if shown["frame"] is None or shown["tap"] is None:
        raise RuntimeError(f"no frame with {selector} after the tap")
    return _since_tap(shown, "frame")


def keep_ahead(phone: Phone, run: Run) -> None:
    """Until the device kept what the item page names; its size in Cache Storage."""
    page = phone.page
    upcoming = json.loads(page.get_attribute("#item-form", "data-upcoming") or "[]")
    phone.wait_until(KEPT_AHEAD_JS, upcoming)
    if run.keep_ahead is None:
        # From the item page loaded: how long the Wi-Fi must stay up for practice to go on.
        loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        run.keep_ahead = round(page.evaluate("performance.now()") - loaded, 1)
        run.upcoming = len(upcoming)
        run.bundle = page.evaluate(KEPT_SIZE_JS, upcoming)
        run.probe = round(page.evaluate(PROBE_JS), 1)


def follow_next(phone: Phone) -> bool:
    """The feedback page's "Next", on to the next practice item."""
    with phone.page.expect_navigation(wait_until="load"):
        phone.page.locator("a.go").first.click()
    return to_an_item(phone)


def learner_run(browser: Any, throttle: WorkerThrottle, link: Link, base: str, who: dict[str, Any],
                book: AnswerBook, mode: str, round_: int, offline_items: int, seed: int) -> Run:
    run = Run(mode=mode, round=round_, learner=who["name"])
    rng = random.Random(seed)
    sw = mode == "sw_on"
    phone = Phone(browser, throttle, link, sw)
    page = phone.page
    try:
        run.signin = sign_in(phone, base, who)
        if sw:
            start_worker(phone)
        page.locator(".step.first").click()
        if not to_an_item(phone):
            run.problems.append(f"no practice item reached ({page.url})")
            return run
        for n in range(2):  # with the Wi-Fi
            if sw:
                keep_ahead(phone, run)
            if not fill_answer(phone, book, rng):
                run.problems.append(f"no answer for {page.url}")
                return run
            run.online.append(check(phone, ".verdict"))
            if not follow_next(phone):
                run.problems.append(f"Next after answer {n + 1} reached no item ({page.url})")
                return run
        if sw:
            keep_ahead(phone, run)
        phone.network(offline=True)  # the Wi-Fi drops
        for n in range(offline_items if sw else 1):
            graded_here = page.get_attribute("#item-form", "data-verdicts") is not None
            if not fill_answer(phone, book, rng, right=n % 2 == 0):
                run.problems.append(f"no answer offline for {page.url}")
                break
            took = check(phone, ".offline-answer .verdict, .offline-answer .note")
            if graded_here:
                run.offline.append(took)
            else:
                run.hub_only_offline += 1
            if not sw or n == offline_items - 1:
                break
            here = page.url
            page.evaluate(MARK_TAP_JS)
            page.locator(".offline-answer a[data-offline-next]").click()
            page.wait_for_function("(here) => location.href !== here", arg=here)
            page.wait_for_load_state("load")
            if not is_item_page(phone):
                run.problems.append(f"offline Next {n + 1} led to {page.url}, not a kept item")
                break
            run.offline_next.append(_since_tap(page.evaluate(LOADED_JS), "usable"))
        phone.network(offline=False)  # and comes back
        page.goto(base + "/learn/")
        phone.wait_until(SENT_JS)  # the answers kept on the device reach the hub, then sign-out
        page.locator("form.sign-out button").click()
        page.wait_for_url(lambda url: "/learn/" not in url)
        run.signin_again = sign_in(phone, base, who)
    except Exception as error:  # noqa: BLE001 - one learner's trouble is reported, the run goes on
        run.problems.append(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")
    finally:
        phone.close()
        throttle.forget(phone.context_id)
    return run


def people_of(logins: dict[str, Any]) -> list[dict[str, Any]]:
    """Every demo learner, the two classes taken in turn (pictures, PINs, pictures, ...)."""
    by_class = [[{"class_id": c["id"], "kind": c["kind"], "id": learner["id"], "name": learner["name"],
                  "secret": learner["secret"]} for learner in c["learners"]] for c in logins["classes"]]
    mixed: list[dict[str, Any]] = []
    for n in range(max(len(c) for c in by_class)):
        mixed += [c[n] for c in by_class if n < len(c)]
    return mixed


def _p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def summary(runs: list[Run], rounds: int) -> dict[str, Any]:
    waits = {"signin_to_path": lambda r: [r.signin] if r.signin is not None else [],
             "signin_again_to_path": lambda r: [r.signin_again] if r.signin_again is not None else [],
             "check_to_feedback_online": lambda r: r.online,
             "check_to_feedback_offline": lambda r: r.offline,
             "offline_next_to_item": lambda r: r.offline_next,
             "keep_ahead_after_item_loaded": lambda r: [r.keep_ahead] if r.keep_ahead is not None else []}
    out: dict[str, Any] = {}
    for mode in MODES:
        mine = [r for r in runs if r.mode == mode]
        figures: dict[str, Any] = {}
        for name, pick in waits.items():
            values = [v for r in mine for v in pick(r)]
            if not values and (mode == "sw_off" and name in ("offline_next_to_item", "keep_ahead_after_item_loaded")):
                continue
            figures[f"{name}_ms_p50"] = _p50(values)
            figures[f"{name}_ms_max"] = round(max(values), 1) if values else None
            figures[f"{name}_count"] = len(values)
            figures[f"{name}_ms_p50_by_round"] = [_p50([v for r in mine if r.round == n for v in pick(r)])
                                                  for n in range(1, rounds + 1)]
        figures["hub_only_items_offline"] = sum(r.hub_only_offline for r in mine)
        figures["problems"] = [f"{r.learner} (round {r.round}): {p}" for r in mine for p in r.problems]
        out[mode] = figures
    bundles = [r.bundle for r in runs if r.bundle]
    if bundles:
        sizes = [b["pages"] + b["files"] for b in bundles]
        out["offline_activities"] = max(r.upcoming or 0 for r in runs)
        out["offline_bundle_bytes"] = int(statistics.median(sizes))
        out["offline_bundle_bytes_max"] = max(sizes)
        out["offline_bundle_pages_bytes"] = int(statistics.median(b["pages"] for b in bundles))
        out["offline_bundle_files_bytes"] = int(statistics.median(b["files"] for b in bundles))
        out["offline_bundle_files"] = int(statistics.median(b["count"] for b in bundles))
        out["cache_storage_bytes"] = int(statistics.median(b["whole"] for b in bundles))
        out["cache_storage_bytes_max"] = max(b["whole"] for b in bundles)
    probes = [r.probe for r in runs if r.probe is not None]
    out["worker_request_probe_ms_p50"] = _p50(probes)  # at least the latency: the worker is throttled
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=5, help="learners in each mode and round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each mode once a round (default 3)")
    parser.add_argument("--cpu", type=float, default=4, help="CPU slow-down of the page (default 4)")
    parser.add_argument("--latency-ms", type=float, default=400, help="added to every request (default 400)")
    parser.add_argument("--kbps", type=float, default=400, help="kbit/s down and up (default 400)")
    parser.add_argument("--offline-items", type=int, default=3,
                        help="items answered offline with the service worker (default 3)")
    parser.add_argument("--modes", default=",".join(MODES), help="sw_on,sw_off (default both)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default {CHROMIUM})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and log")
    args = parser.parse_args(argv)
    if not 1 <= args.learners <= 30:
        parser.error("--learners must be 1..30 (the demo's learners)")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be 1..20")
    if args.cpu < 1 or args.latency_ms < 0 or args.kbps <= 0:
        parser.error("--cpu must be at least 1, --latency-ms at least 0, --kbps more than 0")
    if not 1 <= args.offline_items <= 10:
        parser.error("--offline-items must be 1..10")
    args.modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not args.modes or any(m not in MODES for m in args.modes):
        parser.error("--modes is sw_on, sw_off or both")
    return args


CPU_LOOP_JS = """() => { const t = performance.now(); let x = 0;
    for (let i = 0; i < 5e7; i++) { x += i % 7; } return x > 0 ? performance.now() - t : 0; }"""


def _loop_ms(page: Any) -> float:
    page.evaluate(CPU_LOOP_JS)  # compiled and warm first
    return float(statistics.median(page.evaluate(CPU_LOOP_JS) for _ in range(5)))


def cpu_check(browser: Any, rate: float) -> float:
    """How much slower the same loop runs in a throttled page than in a free one (about `rate`)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        free = _loop_ms(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        slowed = _loop_ms(page)
    finally:
        context.close()
    return round(slowed / free, 2) if free else 0.0


def chromium_version(path: str) -> str:
    try:
        found = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return " ".join(found.split()[:2]) if found else "unknown"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the server and browser are stopped too

    link = Link(cpu=args.cpu, latency_ms=args.latency_ms, kbps=args.kbps)
    work = Path(tempfile.mkdtemp(prefix="bench-throttled-"))
    data, log_file = work / "hub", work / "server.log"
    server = None
    runs: list[Run] = []
    measured_cpu = 0.0
    try:
        print(f"building the demo school in {work} ...", flush=True)
        logins = build_demo(data)
        book = AnswerBook(data)
        people = people_of(logins)
        port = _free_port()
        server = start_server(data, port, None, log_file)
        base = f"http://{HOST}:{port}"
        print(f"hub on {base}; CPU {link.cpu:g}x, {link.latency_ms:g} ms, {link.kbps:g} kbit/s", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            throttle = WorkerThrottle(browser)
            try:
                measured_cpu = cpu_check(browser, link.cpu)
                print(f"a loop in a page runs {measured_cpu}x slower throttled", flush=True)
                n = 0
                for round_ in range(1, args.rounds + 1):
                    order = args.modes if round_ % 2 else tuple(reversed(args.modes))
                    for mode in order:
                        for _ in range(args.learners):
                            who = people[n % len(people)]
                            n += 1
                            run = learner_run(browser, throttle, link, base, who, book, mode, round_,
                                              args.offline_items, args.seed * 1000 + n)
                            runs.append(run)
                            print(f"round {round_} {mode:6} {who['name']:10} sign-in {run.signin} ms, "
                                  f"again {run.signin_again} ms, online {run.online} ms, offline {run.offline} ms, "
                                  f"offline next {run.offline_next} ms, kept in {run.keep_ahead} ms "
                                  f"{run.bundle or ''} {'; '.join(run.problems)}", flush=True)
            finally:
                browser.close()
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result = {"learners": args.learners, "rounds": args.rounds, "cpu_slowdown": link.cpu,
              "cpu_slowdown_measured": measured_cpu, "latency_ms": link.latency_ms, "kbps": link.kbps,
              "chromium": chromium_version(args.chromium),
              **summary(runs, args.rounds)}
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
