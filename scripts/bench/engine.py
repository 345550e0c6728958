"""Learning engine speed: one answer's update and one playlist, for a 100-skill pack and a year
of one learner's history.

    python scripts/bench/engine.py [--skills 100] [--items-per-skill 20] [--days 180] [--per-day 30]

Builds a 100-skill prerequisite graph (each skill needs one or two earlier ones), replays a
school year of one learner's answers (30 a day, 180 days, right with a probability that grows
with practice), timing every apply_event, then times next_activities at the end of the year.
Last line: one JSON object with the medians and 99th percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from classroom_server.learning import SkillGraph, PolicyOptions, apply_event, new_state, next_activities  # noqa: E402


def catalog(skills: int, items_per_skill: int, rng: random.Random) -> SkillGraph:
    entries = []
    for n in range(skills):
        prereqs = sorted({f"s{rng.randrange(n)}" for _ in range(rng.choice((1, 2)))}) if n else []
        entries.append({"id": f"s{n}", "prerequisites": prereqs})
    items = [{"id": f"s{n}-i{k}", "skill_id": f"s{n}", "type": "numeric",
              "difficulty": rng.uniform(-1.5, 1.5), "check": k < 3}
             for n in range(skills) for k in range(items_per_skill)]
    return SkillGraph.from_dict({"skills": entries, "items": items})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skills", type=int, default=100)
    parser.add_argument("--items-per-skill", type=int, default=20)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--per-day", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cat = catalog(args.skills, args.items_per_skill, rng)
    state = new_state(catalog=cat)
    learner = "learner-1"
    start = 1_700_000_000.0
    practised: dict[str, int] = {}
    update_ms: list[float] = []
    playlist_ms: list[float] = []
    answers = 0
    for day in range(args.days):
        now = start + day * 86400 + 9 * 3600
        for step in range(args.per_day):
            now += 60
            if step % 10 == 0:  # the hub builds the path once per page of activities
                began = time.perf_counter()
                options = next_activities(state, cat, learner, now, options=PolicyOptions(), items_done_in_session=step % 15)
                playlist_ms.append((time.perf_counter() - began) * 1000)
            else:
                options = next_activities(state, cat, learner, now, options=PolicyOptions(), items_done_in_session=step % 15)
            activity = options[0] if options else None
            if activity is None or activity.kind == "break" or activity.skill_id is None:
                continue
            if activity.kind in ("lesson", "worked_example"):  # the learner reads it, then goes on
                kind = "lesson_viewed" if activity.kind == "lesson" else "worked_example_viewed"
                apply_event(state, {"kind": kind, "learner_id": learner, "skill_id": activity.skill_id,
                                    "modality": activity.modality or "text", "at": now})
                continue
            skill = activity.skill_id
            practised[skill] = practised.get(skill, 0) + 1
            correct = rng.random() < min(0.95, 0.45 + 0.08 * practised[skill])
            event = {"kind": "attempt", "learner_id": learner, "item_id": activity.item_id, "skill_id": skill,
                     "correct": correct, "hints_used": 0, "duration_ms": 20000, "at": now}
            began = time.perf_counter()
            apply_event(state, event)
            update_ms.append((time.perf_counter() - began) * 1000)
            answers += 1
    end_ms = []
    now = start + args.days * 86400 + 9 * 3600
    for _ in range(50):
        began = time.perf_counter()
        next_activities(state, cat, learner, now, options=PolicyOptions())
        end_ms.append((time.perf_counter() - began) * 1000)
    mastered = sum(1 for r in state.mastery[learner].values() if r.state in ("mastered", "proficient"))
    print(f"{answers} answers over {args.days} days; {mastered} of {args.skills} skills proficient or mastered")
    print(f"update: median {statistics.median(update_ms):.4f} ms, p99 {percentile(update_ms, 0.99):.4f} ms")
    print(f"playlist during the year: median {statistics.median(playlist_ms):.3f} ms, p99 {percentile(playlist_ms, 0.99):.3f} ms")
    print(f"playlist at the end of the year: median {statistics.median(end_ms):.3f} ms")
    print(json.dumps({
        "answers": answers, "skills": args.skills,
        "update_median_ms": round(statistics.median(update_ms), 4), "update_p99_ms": round(percentile(update_ms, 0.99), 4),
        "playlist_median_ms": round(statistics.median(playlist_ms), 3), "playlist_p99_ms": round(percentile(playlist_ms, 0.99), 3),
        "playlist_end_of_year_ms": round(statistics.median(end_ms), 3),
    }))


if __name__ == "__main__":
    main()
