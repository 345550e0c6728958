"""A calibration of the learner model fitted on every school's answers, reviewed, sent to hubs.

A hub fits its shared terms (item and skill difficulties, the skills' guess and slip) nightly on
its own answers (classroom_server/learning/calibration.py). The district holds every school's
answers, so it can fit them on far more: ``fit()`` folds every hub's learning events with the
same pure code (``fit_calibration``, cohort learning on), in the canonical order of the log
(hlc, origin, seq; origins compared byte by byte, as the hub's Python does), and stores the
result as a **draft**. District staff review it on the dashboard (how many answers, how far
items moved since the last calibration sent) and **send** it: it is published as a
``calibration`` change for every school, and each hub records it as a ``model.calibrated``
event at its next sync or stick; from then on the hub keeps the district's fit rather than
fitting its own (services/learning.calibrate). Or they **discard** it.

What the fit folds: every held event of the engine's kinds except ``model.calibrated`` (the
hubs' own fits would pull the shared terms back to one school's answers mid-fold); the catalogue
is every pack version any hub sent a manifest for, the newest version of each pack offered and
older items known. Deterministic: the same held events give the same draft.

It reads the events a page at a time (keyset pagination in the canonical order), so its memory
is the engine's state, not the log. On a large district it takes minutes: the dashboard starts it
in the background and shows its progress; ``classroom-server district calibrate`` runs it in a
terminal (or from a nightly timer). A fit whose server stopped is marked failed when the next
one starts.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from peewee import fn

from classroom_server.learning.adapter import engine_catalog, engine_event
from classroom_server.learning.calibration import fit_calibration
from sync.district.models import DistrictCalibration, Event, Manifest
from sync.district.service import _postgres, now, publish

KINDS = ("attempt", "override", "test_out_started", "lesson_viewed", "worked_example_viewed", "placement.finished")
PAGE = 20000
STALLED_MINUTES = 15  # a fit writes its progress every PAGE events, far more often than this
MOVED_SHOWN = 20  # items listed on the review page, the furthest moved first
_RUNNING = threading.Lock()  # one fit at a time in this process


class Busy(RuntimeError):
    """A fit is running already."""


def _version_key(version: str) -> tuple[Any, ...]:
    """Semver order (1.10.0 after 1.9.0; a pre-release before its release), without the hub's services."""
    core, _, pre = version.partition("-")
    numbers = tuple(int(p) if p.isdigit() else -1 for p in core.split("."))
    return numbers + ((1,) if not pre else (0, pre))


def catalogue() -> Any:
    """Every pack version any hub sent: the newest of each pack offered, older items known."""
    manifests = {row.key: json.loads(row.body) for row in Manifest.select()}
    ordered = sorted(manifests.items(), key=lambda kv: (str(kv[1]["pack"]), _version_key(str(kv[1]["version"]))))
    installs = [{"kind": "pack.installed", "payload": {"pack_id": body["pack"], "version": body["version"],
                                                       "manifest": key}} for key, body in ordered]
    return engine_catalog(installs, manifests)


def _origin() -> Any:
    return Event.origin.collate('"C"') if _postgres() else Event.origin  # byte order, as Python compares


def stored_events(page: int = PAGE) -> Iterator[dict[str, Any]]:
    """Every held event of the fit's kinds, in canonical order, a page at a time."""
    origin = _origin()
    after: tuple[int, str, int] | None = None
    while True:
        query = (Event.select(Event.kind, Event.learner_uid, Event.recorded_at, Event.payload, Event.hlc, Event.origin,
                              Event.seq)
                 .where(Event.kind.in_(KINDS)).order_by(Event.hlc, origin, Event.seq).limit(page))
        if after is not None:
            hlc, last_origin, seq = after
            query = query.where((Event.hlc > hlc) | ((Event.hlc == hlc) & (origin > last_origin))
                                | ((Event.hlc == hlc) & (origin == last_origin) & (Event.seq > seq)))
        rows = cast("list[dict[str, Any]]", list(query.dicts()))
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1]
        after = (int(last["hlc"]), str(last["origin"]), int(last["seq"]))


def start() -> DistrictCalibration:
    """A new fit's row (status ``fitting``); raises ``Busy`` when one is running. A fit whose
    progress stopped for ``STALLED_MINUTES`` (its server stopped) is marked failed first."""
    stalled = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=STALLED_MINUTES)).isoformat(timespec="seconds")
    DistrictCalibration.update(status="failed", problem="stopped: it made no progress (was its server stopped?)",
                               finished_at=now()).where(DistrictCalibration.status == "fitting",
                                                        DistrictCalibration.updated_at < stalled).execute()
    if DistrictCalibration.select().where(DistrictCalibration.status == "fitting").exists():
        raise Busy("a calibration is being fitted already")
    total = Event.select(fn.COUNT(Event.id)).where(Event.kind.in_(KINDS)).scalar() or 0
    stamp = now()
    return DistrictCalibration.create(status="fitting", started_at=stamp, updated_at=stamp, total=int(total))


def fit(row: DistrictCalibration, every: int = PAGE, progress: Callable[[int], None] | None = None) -> None:
    """Fit on every held answer and store the result in ``row`` as a draft (``failed`` with the
    reason if it cannot be fitted)."""
    if not _RUNNING.acquire(blocking=False):
        raise Busy("a calibration is being fitted already")
    try:
        folded = 0
        answers = 0
        hubs: set[str] = set()

        def events() -> Iterator[dict[str, Any]]:
            nonlocal folded, answers
            for stored in stored_events():
                folded += 1
                answers += stored["kind"] == "attempt"
                hubs.add(str(stored["origin"]).split(".")[0])
                if folded % every == 0:
                    DistrictCalibration.update(events=folded, updated_at=now()).where(
                        DistrictCalibration.id == row.id).execute()
                    if progress is not None:
                        progress(folded)
                yield engine_event(stored)

        try:
            fitted = fit_calibration(events(), catalogue())
        except Exception as exc:  # a fit that cannot be made says why on the page, and stays out of use
            DistrictCalibration.update(status="failed", problem=f"{type(exc).__name__}: {exc}", finished_at=now(),
                                       events=folded).where(DistrictCalibration.id == row.id).execute()
            raise
        fitted["answers"] = answers
        DistrictCalibration.update(status="draft", finished_at=now(), events=folded, answers=answers, hubs=len(hubs),
                                   body=json.dumps(fitted, sort_keys=True)).where(
            DistrictCalibration.id == row.id).execute()
    finally:
        _RUNNING.release()


def listed(limit: int = 20) -> list[DistrictCalibration]:
    return list(DistrictCalibration.select(DistrictCalibration.id, DistrictCalibration.status,
                                           DistrictCalibration.started_at, DistrictCalibration.finished_at,
                                           DistrictCalibration.events, DistrictCalibration.total,
                                           DistrictCalibration.answers, DistrictCalibration.hubs,
                                           DistrictCalibration.problem, DistrictCalibration.decided_by,
                                           DistrictCalibration.decided_at)
                .order_by(DistrictCalibration.id.desc()).limit(limit))


@dataclass(frozen=True)
class Moved:
    item: str  # the engine's id, <pack>:<item>
    before: float | None  # the last sent calibration's difficulty (None: not in it)
    after: float
    answers: int


@dataclass(frozen=True)
class Review:
    calibration: DistrictCalibration
    previous: DistrictCalibration | None  # the last one sent
    items: int
    skills: int
    moved: list[Moved]  # the furthest moved first (or, with nothing sent before, the most answered)
    spread: tuple[float, float] | None  # the lowest and highest item difficulty


def review(calibration_id: int) -> Review | None:
    found = DistrictCalibration.get_or_none(DistrictCalibration.id == calibration_id)
    if found is None:
        return None
    body = json.loads(found.body) if found.body else {"items": {}, "skills": {}}
    previous = (DistrictCalibration.select().where(DistrictCalibration.status == "sent",
                                                   DistrictCalibration.id != found.id)
                .order_by(DistrictCalibration.id.desc()).first())
    before = json.loads(previous.body)["items"] if previous is not None and previous.body else {}
    moved = [Moved(item, before[item][0] if item in before else None, float(value[0]), int(value[1]))
             for item, value in body["items"].items()]
    if before:
        moved.sort(key=lambda m: (-abs(m.after - (m.before if m.before is not None else 0.0)), m.item))
    else:
        moved.sort(key=lambda m: (-m.answers, m.item))
    values = [float(v[0]) for v in body["items"].values()]
    return Review(found, previous, len(body["items"]), len(body["skills"]), moved[:MOVED_SHOWN],
                  (min(values), max(values)) if values else None)


def send(calibration_id: int, by: str) -> str:
    """Publish a draft for every hub; returns its record's id. Raises ``ValueError`` if it is no draft."""
    found = DistrictCalibration.get_or_none(DistrictCalibration.id == calibration_id)
    if found is None or found.status != "draft" or not found.body:
        raise ValueError("only a finished draft can be sent")
    body = json.loads(found.body)
    sourced_id = f"district-fit-{found.id}"
    publish(None, [{"kind": "calibration", "sourcedId": sourced_id, "status": "active", "items": body["items"],
                    "skills": body["skills"], "guess_slip": body.get("guess_slip", {}),
                    "answers": int(body["answers"])}])
    DistrictCalibration.update(status="sent", decided_by=by, decided_at=now()).where(
        DistrictCalibration.id == found.id).execute()
    return sourced_id


def discard(calibration_id: int, by: str) -> None:
    found = DistrictCalibration.get_or_none(DistrictCalibration.id == calibration_id)
    if found is None or found.status not in ("draft", "failed"):
        raise ValueError("only a draft can be discarded")
    DistrictCalibration.update(status="discarded", decided_by=by, decided_at=now(), body=None).where(
        DistrictCalibration.id == found.id).execute()
