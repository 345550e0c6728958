"""Every learner's mastery states over time, for the reports: the engine's own change log.

A mastery record keeps its state now and the time it was *last* mastered
(``SkillRecord.mastered_at``), not its past. A skill mastered in January, missed at a review in
March and put back a day later has ``mastered_at`` in March; a skill lost since leaves no trace.
Growth over a period needs the states at the period's start and at each week's end, so the
engine notes each change of state with its event's time as it folds the log
(``growth_rules.ChangeLog``, ``Engine.changes``), in the fold's own order: the log's canonical
order from the start, then by row id as events arrive. A rebuild anywhere gives the same
history, since it is a function of the log and the pack versions it names, like every
projection; ``MasteryHistory`` folds it again independently, and tests/test_reports.py checks
the two agree.

What it costs (scripts/bench/reports.py measures it): nothing more than the engine's fold, which
the hub makes anyway; a report reads the log of changes under the engine's lock, so the numbers
of one page come from one position in the log (answers wait for it: a class's report takes
milliseconds). Before, the reports folded the log a second time, on first use after each start
(2.7 s for a term of a class of 60) and kept a second copy of the engine's state.

A change's time is the latest event time of that learner so far (a hub whose clock went back
keeps the log's order: what was recorded later counts as later), so a moment's states are
those of a prefix of the learner's changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from classroom_server.growth_rules import NOT_STARTED, NOW, ChangeLog
from classroom_server.models import CANONICAL_ORDER, Event
from classroom_server.services.learning import ENGINE_KINDS, Engine

__all__ = ["NOT_STARTED", "NOW", "EngineHistory", "MasteryHistory", "reading"]
_FIELDS = (Event.id, Event.kind, Event.learner_uid, Event.recorded_at, Event.payload, Event.hlc)


class _ReadsLog:
    """What the reports read of a change log (``self.log``)."""

    log: ChangeLog

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


class MasteryHistory(_ReadsLog):
    """The states of every (learner, skill) and when each changed, as of ``last_row_id``."""

    def __init__(self) -> None:
        self.catalog: Any = None  # the engine's catalogue this was folded with
        self.state: Any = None  # learning.EngineState, built on first use
        self.last_row_id = 0
        self.last_hlc = 0
        self.events = 0  # engine events folded, for the benchmark
        self.log = ChangeLog()

    def refresh(self, catalog: Any) -> None:
        """Fold what the log holds beyond what was folded; from the start when the engine's
        catalogue changed (a pack installed or removed, an engine rebuild) or events joined the
        log before its end (a rewound hub's own events fetched back)."""
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


class EngineHistory(_ReadsLog):
    """The engine's change log as the reports read it, while the engine is held still."""

    def __init__(self, log: ChangeLog, catalog: Any, last_row_id: int) -> None:
        self.log, self.catalog, self.last_row_id = log, catalog, last_row_id


@contextmanager
def reading(engine: Engine) -> Iterator[EngineHistory]:
    """``with reading(engine) as history:`` every change up to the log's end, held still while
    the caller reads it (an answer being recorded waits for the read to end)."""
    with engine.reading() as snap:
        yield EngineHistory(engine.changes, snap.catalog, engine.last_row_id)
