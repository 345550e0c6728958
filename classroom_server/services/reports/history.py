"""Every learner's mastery states over time: the engine's fold again, noting when each state changed.

Why a second fold: a mastery record keeps its state now and the time it was *last* mastered
(``SkillRecord.mastered_at``), not its past. A skill mastered in January, missed at a review in
March and put back a day later has ``mastered_at`` in March; a skill lost since leaves no trace.
Growth over a period needs the states at the period's start and at each week's end, so this
folds the same events with the same pure code as the engine (``learning.adapter.apply_stored``,
in the same order: the log's canonical order from the start, then by row id as events arrive)
and notes each change of state with its event's time. Its states now are the engine's (and
``tests/test_reports.py`` checks it), and a rebuild anywhere gives the same history, since it
is a function of the log and the pack versions it names, like every projection.

What it costs (scripts/bench/reports.py measures it): the first report after the hub starts folds
the whole log, as the engine does when the hub starts, and costs about as much; later reports fold
only the events recorded since. Nothing is folded while nobody opens a report. It is kept in
memory for the life of the engine it follows (a second copy of the engine's state, plus the
changes). Were the engine to note these changes as it folds, this second fold would go.

A change's time is the latest event time of that learner so far (a hub whose clock went back
keeps the log's order: what was recorded later counts as later), so a moment's states are
those of a prefix of the learner's changes.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from classroom_server.growth_rules import NOT_STARTED, NOW, ChangeLog
from classroom_server.models import CANONICAL_ORDER, Event
from classroom_server.services.learning import ENGINE_KINDS, Engine

__all__ = ["NOT_STARTED", "NOW", "MasteryHistory", "history_of", "reading"]
_FIELDS = (Event.id, Event.kind, Event.learner_uid, Event.recorded_at, Event.payload, Event.hlc)


class MasteryHistory:
    """The states of every (learner, skill) and when each changed, as of ``last_row_id``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.catalog: Any = None  # the engine's catalogue this was folded with
        self.state: Any = None  # learning.EngineState, built on first use
        self.last_row_id = 0
        self.last_hlc = 0
        self.events = 0  # engine events folded, for the benchmark
        self.log = ChangeLog()

    def refresh(self, catalog: Any) -> None:
        """Fold what the log holds beyond what was folded; from the start when the engine's
        catalogue changed (a pack installed or removed, an engine rebuild) or events joined the
        log before its end (a rewound hub's own events fetched back). The caller holds ``lock``."""
        if catalog is not self.catalog or self._rewritten():
            self._start(catalog)
        if self.last_row_id == 0:
            rows = Event.select(*_FIELDS).where(Event.kind.in_(ENGINE_KINDS)).order_by(*CANONICAL_ORDER)
        else:
            rows = (Event.select(*_FIELDS).where(Event.kind.in_(ENGINE_KINDS), Event.id > self.last_row_id)
                    .order_by(Event.id))
        self._fold(rows.dicts().iterator())

    def _rewritten(self) -> bool:
        return self.last_row_id > 0 and (Event.select(Event.id)
                                         .where(Event.kind.in_(ENGINE_KINDS), Event.id > self.last_row_id,
                                                Event.hlc < self.last_hlc).exists())

    def _start(self, catalog: Any) -> None:
        from classroom_server.learning import new_state

        self.catalog = catalog
        self.state = new_state(catalog=catalog)
        self.last_row_id = self.last_hlc = self.events = 0
        self.log = ChangeLog()

    def _fold(self, rows: Iterable[dict[str, Any]]) -> None:
        from classroom_server.learning.adapter import apply_stored

        for row in rows:
            self.last_row_id = max(self.last_row_id, row["id"])
            self.last_hlc = max(self.last_hlc, row["hlc"] or 0)
            self.events += 1
            _, keys = apply_stored(self.state, row)
            self.log.note(self.state, row, keys)

    @property
    def now(self) -> dict[tuple[str, str], str]:
        return self.log.now

    @property
    def changes(self) -> dict[str, list[tuple[float, str, str]]]:
        return self.log.changes

    def state_now(self, learner_uid: str, skill: str) -> str:
        return self.log.state_now(learner_uid, skill)

    def counts(self, learner_uid: str, skills: frozenset[str], moments: Sequence[float],
               wanted: str = "mastered") -> list[int]:
        """How many of ``skills`` (engine ids) the learner had in state ``wanted`` just before each
        of ``moments`` (epoch seconds, ascending; ``NOW`` for the states now)."""
        return self.log.counts(learner_uid, skills, moments, wanted)


_HISTORIES: weakref.WeakKeyDictionary[Engine, MasteryHistory] = weakref.WeakKeyDictionary()
_HISTORIES_LOCK = threading.Lock()


def history_of(engine: Engine) -> MasteryHistory:
    """The history that follows this engine (one per hub process; made on first use)."""
    with _HISTORIES_LOCK:
        found = _HISTORIES.get(engine)
        if found is None:
            found = _HISTORIES[engine] = MasteryHistory()
        return found


@contextmanager
def reading(engine: Engine) -> Iterator[MasteryHistory]:
    """``with reading(engine) as history:`` a history brought up to the log's end, held still
    while the caller reads it (answers go on being recorded; the next reading folds them)."""
    with engine.reading() as snap:  # the engine caught up; its catalogue is the one to fold with
        catalog = snap.catalog
    history = history_of(engine)
    with history.lock:
        history.refresh(catalog)
        yield history
