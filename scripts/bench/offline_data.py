"""What a learner's device keeps for practice without Wi-Fi (#19), and what it costs the hub.

    python scripts/bench/offline_data.py [--pack fractions] [--activities 10] [--lang en] [--pages 200]

Builds a hub in a temporary directory with a bundled pack (content_packs/library/), signs a new
learner in through the real pages and opens the first item of their path, as a learner does.
Then it fetches what the service worker (static/sw.js) keeps: every page the item page names in
`data-upcoming` and every pack file those pages use (their src and href under /content/), each
once, as background requests (X-Prefetch), through the real handlers (Flask's test client).
Sizes are given twice: as stored on the device (the bytes of the pages and files, which Cache
Storage holds whole) and as moved over the Wi-Fi (gzip where the hub compresses).

It also times the item page in this thread's CPU (the median of --pages renders): with the list
of --activities, with none (offline_activities = 0), and as a kept page (X-Prefetch: no list is
worked out for it). Then a learner answers --walk items one after another (right, then wrong,
in turn), each by the path's "Next", while their device keeps what each page names the way
static/sw.js does (a page already kept is not asked for again): the hub's CPU for each item
answered is the item page, the background requests it caused, the answer and the "Next".
`--refetch` makes the device ask for every listed page on every item page instead, as
practice.js did before #19 (three pages then): run it against that version to compare. The
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

FILE_LINK = re.compile(r'\s(?:src|href)="(/content/[0-9a-f]{64}/[^"]+)"')  # as sw.js reads a page


def _sizes(response) -> tuple[int, int]:
    """(bytes stored, bytes moved) of a response asked for with Accept-Encoding: gzip."""
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        return len(gzip.decompress(body)), len(body)
    return len(body), len(body)


def _cpu_ms(client, url: str, pages: int, **kwargs) -> float:
    spent = []
    for _ in range(pages):
        working = time.thread_time()
        assert client.get(url, **kwargs).status_code == 200
        spent.append(time.thread_time() - working)
    return round(statistics.median(spent) * 1000, 2)


def _answer_form(item, right: bool) -> dict:
    from content_packs.testing import key_response

    response = key_response(item, "en")
    if item.type in ("numeric", "short_text"):
        return {"answer": response if right else "999"}
    if item.type == "single_choice":
        return {"answer": response if right else next(c.id for c in item.choices if not c.correct)}
    if item.type == "multiple_choice":
        return {"answer": response if right else [next(c.id for c in item.choices if not c.correct)]}
    if item.type == "ordering":
        order = list(response) if right else list(reversed(response))
        return {f"rank.{o}": str(n) for n, o in enumerate(order, start=1)}
    pairs = dict(response)
    if not right:
        lefts = list(pairs)
        pairs[lefts[0]], pairs[lefts[1]] = pairs[lefts[1]], pairs[lefts[0]]
    return {f"match.{a}": b for a, b in pairs.items()}


def _walk(app, client, first: str, answers: int, refetch: bool) -> dict:
    """Answer items by Next, the device keeping what each page lists; the hub's CPU per item."""
    catalogue = app.extensions["catalogue"].get().catalogue
    kept: set[str] = set()
    spent, background, url, done = [], 0, first, 0
    while done < answers and "/learn/item/" in url:
        working = time.thread_time()
        page = client.get(url).get_data(as_text=True)
        listed = json.loads(html.unescape(re.search(r'data-upcoming="([^"]*)"', page).group(1)))
        for wanted in listed:
            if refetch or wanted not in kept:
                client.get(wanted, headers={"X-Prefetch": "1"})
                background += 1
                kept.add(wanted)
        pack_id, item_id = re.search(r"/learn/item/([^/]+)/([^/?#]+)", url).groups()
        form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
                "event_id": re.search(r'name="event_id" value="([^"]+)"', page).group(1),
                "mode": re.search(r'name="mode" value="([^"]+)"', page).group(1),
                **_answer_form(catalogue.item(pack_id, item_id), right=done % 2 == 0)}
        answered = client.post(url.split("?")[0], data=form, headers={"Accept": "application/json"})
        assert answered.status_code == 200, (url, answered.status_code)
        url = client.get("/learn/next").headers.get("Location", "")
        spent.append(time.thread_time() - working)
        done += 1
        for _ in range(3):  # past a lesson or worked example (Done) and the session's break (Keep going)
            if "/learn/lesson/" in url or "/learn/example/" in url:
                done_form = {"csrf_token": form["csrf_token"]}
                url = client.post(url.split("?")[0], data=done_form).headers.get("Location", "")
            elif "/learn/item/" not in url:
                client.post("/learn/keep-going", data={"csrf_token": form["csrf_token"]})
                url = client.get("/learn/next").headers.get("Location", "")
            if url.startswith("/learn/next"):
                url = client.get(url).headers.get("Location", "")
    return {"walk_items": done, "walk_background_pages_per_item": round(background / max(done, 1), 2),
            "walk_cpu_ms_per_item_p50": round(statistics.median(spent) * 1000, 2),
            "walk_cpu_ms_per_item_mean": round(statistics.mean(spent) * 1000, 2)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pack", default="fractions", help="a folder of content_packs/library/")
    parser.add_argument("--activities", type=int, default=10, help="the offline_activities setting")
    parser.add_argument("--lang", default="en", choices=["en", "es", "fr"])
    parser.add_argument("--pages", type=int, default=200, help="item pages rendered for each CPU time")
    parser.add_argument("--walk", type=int, default=60, help="items answered one after another, by Next")
    parser.add_argument("--refetch", action="store_true",
                        help="the device asks for every listed page on each item page (practice.js before #19)")
    args = parser.parse_args(argv)

    from click.testing import CliRunner

    from classroom_server.app import create_app
    from classroom_server.cli import main as cli
    from classroom_server.db import db
    from classroom_server.models import Person
    from classroom_server.services import accounts, courses, packs

    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "hub"
        done = CliRunner().invoke(cli, ["init", "--data", str(data), "--admin-password", "bench-admin-pw"])
        assert done.exit_code == 0, done.output
        app = create_app(data, {"log_level": "warning", "offline_activities": args.activities})
        pack_id = packs.import_pack(data, root / "content_packs" / "library" / args.pack).pack_id
        with db.connection_context():
            admin = Person.get(Person.username == "admin")
            teacher = accounts.create_staff("teacher", "tess", "Tess", "bench-teacher-pw", admin)
            classroom = accounts.create_class("Bench", "pin", [teacher.id], admin)
            courses.set_courses(admin, classroom, [courses.Course(pack_id)])
            learner = accounts.create_learner(classroom, "Ana", "blue", "1234", teacher)
        client = app.test_client()
        page = client.get(f"/login/learner/{classroom.id}/{learner.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post(f"/login/learner/{classroom.id}/{learner.id}", data={"csrf_token": token, "pin": "1234"})
        client.get(f"/learn/?lang={args.lang}")
        home = client.get("/learn/").get_data(as_text=True)
        first = html.unescape(re.search(r'href="(/learn/item/[^"]+)"', home).group(1))

        gz = {"Accept-Encoding": "gzip"}
        opened = client.get(first, headers=gz)
        item_stored, item_moved = _sizes(opened)
        text = opened.get_data()
        text = (gzip.decompress(text) if opened.headers.get("Content-Encoding") == "gzip" else text).decode()
        ahead = json.loads(html.unescape(re.search(r'data-upcoming="([^"]*)"', text).group(1)))
        table = re.search(r"data-verdicts='([^']*)'", text)
        stored = {"pages": 0, "files": 0}
        moved = {"pages": 0, "files": 0}
        files: set[str] = set()
        for url in ahead:
            kept = client.get(url, headers={**gz, "X-Prefetch": "1"})
            assert kept.status_code == 200, (url, kept.status_code)
            size, wire = _sizes(kept)
            stored["pages"] += size
            moved["pages"] += wire
            body = kept.get_data()
            body = gzip.decompress(body) if kept.headers.get("Content-Encoding") == "gzip" else body
            files.update(html.unescape(link) for link in FILE_LINK.findall(body.decode()))
        kinds: dict[str, int] = {}
        for link in sorted(files):  # each file once, however many kept pages use it
            response = client.get(link, headers=gz)
            assert response.status_code == 200, (link, response.status_code)
            size, wire = _sizes(response)
            stored["files"] += size
            moved["files"] += wire
            kind = link.rsplit(".", 1)[-1]
            kinds[kind] = kinds.get(kind, 0) + 1

        with_list = _cpu_ms(client, first, args.pages)
        kept_page = _cpu_ms(client, first, args.pages, headers={"X-Prefetch": "1"})
        walked = _walk(app, client, first, args.walk, args.refetch)
        app.config["SETTINGS"]["offline_activities"] = 0
        without = _cpu_ms(client, first, args.pages)
        db.close()

    result = {
        "pack": pack_id, "lang": args.lang, "activities": len(ahead), "first_item": first,
        "item_page_bytes": item_stored, "item_page_gzip_bytes": item_moved,
        "verdict_table_bytes": len(table.group(1)) if table else 0,
        "kept_pages_bytes": stored["pages"], "kept_pages_gzip_bytes": moved["pages"],
        "kept_files": len(files), "kept_file_kinds": kinds,
        "kept_files_bytes": stored["files"], "kept_files_gzip_bytes": moved["files"],
        "offline_data_bytes": stored["pages"] + stored["files"],
        "offline_data_gzip_bytes": moved["pages"] + moved["files"],
        "item_page_cpu_ms_p50": with_list, "item_page_cpu_ms_p50_no_list": without,
        "kept_page_cpu_ms_p50": kept_page, **walked,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
