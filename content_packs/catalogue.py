"""Catalogue: every installed pack, indexed for the learning loop.

The playlist policy asks "which skills are ready", "which items practise this skill" many times
per request; answering from memory keeps the Pi's SD card out of the hot path.
"""
from __future__ import annotations

from collections.abc import Iterable

from .graph import topological_order
from .model import Item, Pack, Resource, Skill


class _PackIndex:
    __slots__ = ("pack", "skills", "items", "by_skill", "resources_by_skill", "dependents", "order")

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.skills = {s.id: s for s in pack.skills}
        self.items = {i.id: i for i in pack.items}
        by_skill: dict[str, list[Item]] = {s.id: [] for s in pack.skills}
        for item in pack.items:
            by_skill.setdefault(item.skill, []).append(item)
        self.by_skill = {k: tuple(v) for k, v in by_skill.items()}
        res: dict[str, list[Resource]] = {}
        for r in pack.resources:
            for sid in r.skills:
                res.setdefault(sid, []).append(r)
        self.resources_by_skill = {k: tuple(v) for k, v in res.items()}
        deps: dict[str, list[str]] = {}
        for s in pack.skills:
            for p in s.prerequisites:
                deps.setdefault(p, []).append(s.id)
        self.dependents = {k: tuple(v) for k, v in deps.items()}
        self.order = tuple(topological_order({s.id: s.prerequisites for s in pack.skills}))


class Catalogue:
    """An immutable index over several packs. Skills and items are keyed by (pack id, id)."""

    __slots__ = ("_index",)

    def __init__(self, packs: Iterable[Pack] = ()) -> None:
        index: dict[str, _PackIndex] = {}
        for pack in packs:
            if pack.id in index:
                raise ValueError(f"pack '{pack.id}' given twice")
            index[pack.id] = _PackIndex(pack)
        self._index = index

    def with_pack(self, pack: Pack) -> Catalogue:
        """A new catalogue with `pack` added or replacing the installed version of the same id."""
        return Catalogue([p for p in self.packs if p.id != pack.id] + [pack])

    @property
    def packs(self) -> tuple[Pack, ...]:
        return tuple(i.pack for i in self._index.values())

    def pack(self, pack_id: str) -> Pack:
        return self._index[pack_id].pack

    def skill(self, pack_id: str, skill_id: str) -> Skill:
        """The skill, or KeyError."""
        return self._index[pack_id].skills[skill_id]

    def item(self, pack_id: str, item_id: str) -> Item:
        return self._index[pack_id].items[item_id]

    def items_for(self, pack_id: str, skill_id: str) -> tuple[Item, ...]:
        """Items that practise the skill, in pack order (empty if none)."""
        return self._index[pack_id].by_skill.get(skill_id, ())

    def resources_for(self, pack_id: str, skill_id: str) -> tuple[Resource, ...]:
        return self._index[pack_id].resources_by_skill.get(skill_id, ())

    def prerequisites(self, pack_id: str, skill_id: str) -> tuple[Skill, ...]:
        idx = self._index[pack_id]
        return tuple(idx.skills[p] for p in idx.skills[skill_id].prerequisites)

    def dependents(self, pack_id: str, skill_id: str) -> tuple[Skill, ...]:
        """Skills that list this one as a prerequisite (where to go after mastering it)."""
        idx = self._index[pack_id]
        return tuple(idx.skills[d] for d in idx.dependents.get(skill_id, ()))

    def topological_order(self, pack_id: str | None = None) -> tuple[tuple[str, str], ...]:
        """(pack id, skill id) with prerequisites first; packs in the order given, ties in file order."""
        chosen = [self._index[pack_id]] if pack_id is not None else list(self._index.values())
        return tuple((idx.pack.id, sid) for idx in chosen for sid in idx.order)

    def __contains__(self, key: object) -> bool:
        return (isinstance(key, tuple) and len(key) == 2 and key[0] in self._index
                and key[1] in self._index[key[0]].skills)
