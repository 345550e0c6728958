"""The skill graph and items of the installed packs, as the learning engine sees them.

(Named apart from content_packs' `Catalogue`, the packs' full content for pages: the engine
needs only this.)

Packs are immutable once imported, so the hub builds one `SkillGraph` per pack and keeps it in
memory. Only what the engine needs is here: skills with prerequisites, and items with their skill,
type, optional difficulty prior (logit scale) and whether they may serve as a check.

Retired items (dropped by a pack upgrade, or of a removed pack) are known but never offered: they
are in `items` (their priors count) and `retired_by_skill`, never in `items_by_skill`, which is
what the policy picks from. A skill's prior and its fresh-item estimate (`item_ids`) cover them,
so retiring an item does not move anyone's estimates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Skill:
    id: str
    prerequisites: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class Item:
    id: str
    skill_id: str
    type: str = "practice"
    difficulty: float | None = None
    check: bool = False


@dataclass
class SkillGraph:
    """Skills in a topological order (prerequisites first), and items grouped by skill."""

    skills: dict[str, Skill] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    items_by_skill: dict[str, list[Item]] = field(default_factory=dict)
    retired_by_skill: dict[str, list[Item]] = field(default_factory=dict)

    @classmethod
    def build(cls, skills: Iterable[Skill], items: Iterable[Item],
              retired: Iterable[Item] = ()) -> SkillGraph:
        """Validate and index. A missing prerequisite or a cycle is an error naming the skill.

        `retired` items may belong to skills no longer listed (a removed pack); one whose id is
        offered again is ignored (the offered entry wins).
        """
        by_id: dict[str, Skill] = {}
        for skill in skills:
            if skill.id in by_id:
                raise ValueError(f"skill {skill.id!r} is listed twice")
            by_id[skill.id] = skill
        for skill in by_id.values():
            for pre in skill.prerequisites:
                if pre not in by_id:
                    raise ValueError(f"skill {skill.id!r} needs unknown prerequisite {pre!r}")
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = visiting, 2 = done

        def visit(skill_id: str, path: tuple[str, ...]) -> None:
            if state.get(skill_id) == 2:
                return
            if state.get(skill_id) == 1:
                raise ValueError("prerequisite cycle: " + " -> ".join(path + (skill_id,)))
            state[skill_id] = 1
            for pre in by_id[skill_id].prerequisites:
                visit(pre, path + (skill_id,))
            state[skill_id] = 2
            order.append(skill_id)

        for skill_id in by_id:
            visit(skill_id, ())
        item_map: dict[str, Item] = {}
        grouped: dict[str, list[Item]] = {s: [] for s in by_id}
        for item in items:
            if item.skill_id not in by_id:
                raise ValueError(f"item {item.id!r} belongs to unknown skill {item.skill_id!r}")
            if item.id in item_map:
                raise ValueError(f"item {item.id!r} is listed twice")
            item_map[item.id] = item
            grouped[item.skill_id].append(item)
        retired_grouped: dict[str, list[Item]] = {}
        for item in retired:
            if item.id in item_map:
                continue
            item_map[item.id] = item
            retired_grouped.setdefault(item.skill_id, []).append(item)
        return cls(by_id, item_map, order, grouped, retired_grouped)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkillGraph:
        """From {"skills": [{"id", "prerequisites"}], "items": [{"id", "skill_id", ...}],
        "retired": [items, same shape]} ("retired" optional)."""
        skills = [
            Skill(str(s["id"]), tuple(str(p) for p in s.get("prerequisites", ())), s.get("title", ""))
            for s in data.get("skills", ())
        ]

        def items(key: str) -> list[Item]:
            return [
                Item(
                    str(i["id"]), str(i["skill_id"]), i.get("type", "practice"),
                    None if i.get("difficulty") is None else float(i["difficulty"]),
                    bool(i.get("check", False)),
                )
                for i in data.get(key, ())
            ]

        return cls.build(skills, items("items"), items("retired"))

    def item_priors(self) -> dict[str, float]:
        return {i.id: i.difficulty for i in self.items.values() if i.difficulty is not None}

    def skill_priors(self) -> dict[str, float]:
        """A skill's typical difficulty: the mean of its items' priors (offered and retired),
        where there are any."""
        by_skill: dict[str, list[float]] = {}
        for item in self.items.values():
            if item.difficulty is not None:
                by_skill.setdefault(item.skill_id, []).append(item.difficulty)
        return {skill_id: sum(values) / len(values) for skill_id, values in by_skill.items()}

    def item_ids(self, skill_id: str) -> list[str]:
        """Every item of the skill the learner may have met, offered and retired (what the
        fresh-item estimate averages over). What may be offered is `items_by_skill`."""
        return [i.id for i in self.items_by_skill.get(skill_id, ())] + [
            i.id for i in self.retired_by_skill.get(skill_id, ())]
