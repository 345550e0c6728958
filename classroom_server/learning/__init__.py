"""The learning engine: learner model, mastery, review scheduling and the playlist policy.

Pure domain logic: plain data in, plain data out. No Flask, no database, no I/O, no wall clock
(times are arguments) and no unseeded randomness, so every projection can be rebuilt from the
event log, on the hub or at the district, and compared bit for bit. See docs/learning-engine.md.

The hub's entry points:
    fold_events(events, catalog) -> EngineState      rebuild the projection from the log
    apply_event(state, event)                        keep it current after each new event
    next_activities(state, catalog, learner_id, now, assignments, options) -> [Activity]
    state.to_dict() / EngineState.from_dict(data, catalog)
"""

from . import elo, mastery, policy, projection, review
from .elo import EloModel, EloParams
from .elo_fit import fit_elo
from .mastery import MasteryConfig, SkillRecord
from .model import LearnerModel, answer_credit, to_seconds
from .pfa import PfaModel, fit_pfa
from .policy import REASON_CODES, Activity, Assigned, PolicyOptions, next_activities
from .projection import EngineState, apply_event, fold_events, new_state
from .skill_graph import Item, Skill, SkillGraph
from .tracing import SkillStats

ALGORITHM_VERSION = "+".join(
    (elo.ALGORITHM_VERSION, mastery.ALGORITHM_VERSION, review.ALGORITHM_VERSION,
     projection.ALGORITHM_VERSION, policy.ALGORITHM_VERSION)
)

__all__ = [
    "ALGORITHM_VERSION", "Activity", "Assigned", "SkillGraph", "EloModel", "EloParams", "EngineState", "Item",
    "LearnerModel", "MasteryConfig", "PfaModel", "PolicyOptions", "Skill", "SkillRecord", "SkillStats",
    "answer_credit", "apply_event", "fit_elo", "fit_pfa", "fold_events", "new_state",
    "next_activities", "REASON_CODES", "to_seconds",
]
