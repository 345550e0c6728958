"""Immutable in-memory packs: Pack, Skill, Resource, Item and their parts.

Packs never change once imported, so the hub keeps them in memory and never asks the database.
Everything is frozen and slotted, and localized strings are a compact Localized mapping rather
than a dict: on a 512 MB Pi a 10,000-item pack must fit in a few tens of megabytes.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, TypeVar

V = TypeVar("V")
_LANG_TUPLES: dict[tuple[str, ...], tuple[str, ...]] = {}


class Localized(tuple, Mapping[str, V], Generic[V]):
    """A read-only {language: value} mapping stored as one tuple: (languages, value, value, ...).

    The tuple of languages is shared by every Localized with the same languages. One small
    tuple costs about a third of a small dict, and a big pack holds hundreds of thousands of
    localized strings. It is a Mapping for callers (use to_dict() before json.dumps).
    """

    __slots__ = ()

    def __new__(cls, mapping: Mapping[str, V]) -> Localized[V]:
        langs = tuple(mapping)
        return tuple.__new__(cls, (_LANG_TUPLES.setdefault(langs, langs), *mapping.values()))

    def __getnewargs__(self) -> tuple:  # pickling and copying rebuild from a plain dict
        return (self.to_dict(),)

    def __getitem__(self, lang: str) -> V:  # type: ignore[override]
        try:
            return tuple.__getitem__(self, tuple.__getitem__(self, 0).index(lang) + 1)
        except (ValueError, AttributeError):
            raise KeyError(lang) from None

    def __iter__(self) -> Iterator[str]:
        return iter(tuple.__getitem__(self, 0))

    def __len__(self) -> int:
        return tuple.__len__(self) - 1

    def __contains__(self, lang: object) -> bool:
        return lang in tuple.__getitem__(self, 0)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other.items())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return tuple.__hash__(self)

    def __repr__(self) -> str:
        return f"Localized({self.to_dict()!r})"

    def keys(self):
        return tuple.__getitem__(self, 0)

    def values(self):
        return tuple.__getitem__(self, slice(1, None))

    def items(self):
        return tuple(zip(self.keys(), self.values(), strict=True))

    def get(self, lang: str, default: Any = None) -> Any:
        return self[lang] if lang in self else default

    def to_dict(self) -> dict[str, V]:
        return dict(zip(self.keys(), self.values(), strict=True))

    def pick(self, lang: str, fallback: str | None = None) -> V | None:
        """The value in `lang`, else in `fallback`, else the first one (never a blank page)."""
        for want in (lang, fallback):
            if want is not None and want in self:
                return self[want]
        return self.values()[0] if len(self) else None


@dataclass(frozen=True, slots=True)
class Skill:
    id: str
    title: Localized[str]
    description: Localized[str] | None
    prerequisites: tuple[str, ...]
    standards: tuple[str, ...]
    minutes: int | None
    grades: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    skills: tuple[str, ...]
    kind: str
    language: str | None
    title: Localized[str]
    path: str
    sha256: str | None
    size: int | None
    duration_minutes: float | None
    transcript: str | None = None  # an audio or video lesson's words (Markdown), in its language


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    text: Localized[str]
    correct: bool
    feedback: Localized[str] | None


@dataclass(frozen=True, slots=True)
class Option:
    """An entry of an ordering item, or one side of a matching item."""
    id: str
    text: Localized[str]


@dataclass(frozen=True, slots=True)
class NumericAnswer:
    value: str
    tolerance: Fraction
    forms: tuple[str, ...]
    simplest: bool


@dataclass(frozen=True, slots=True)
class WrongAnswer:
    """A common wrong answer and the feedback that names its misconception.

    `value` is a string for numeric items and a Localized string for short_text items.
    """
    value: str | Localized[str]
    feedback: Localized[str]


@dataclass(frozen=True, slots=True)
class Item:
    """One question. Fields that do not apply to the item's type are empty or None.

    `answer` is NumericAnswer (numeric), Localized[tuple[str, ...]] of accepted texts
    (short_text), a tuple of option ids (ordering), a tuple of (left id, right id) pairs
    (matching), or None for choice items, whose key is in `choices`.
    """
    id: str
    skill: str
    type: str
    stem: Localized[str]
    hints: tuple[Localized[str], ...]
    solution: Localized[str]
    difficulty: float | None = None
    check: bool = False
    audio: Localized[str] | None = None
    choices: tuple[Choice, ...] = ()
    options: tuple[Option, ...] = ()
    left: tuple[Option, ...] = ()
    right: tuple[Option, ...] = ()
    answer: Any = None
    wrong_answers: tuple[WrongAnswer, ...] = ()
    prompt_order: tuple[str, ...] | None = None
    feedback_wrong: Localized[str] | None = None

    @property
    def correct_choice_ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.choices if c.correct)


@dataclass(frozen=True, slots=True)
class Pack:
    """An imported pack. `root` is the folder its resource files are served from."""
    id: str
    version: str
    languages: tuple[str, ...]
    title: Localized[str]
    description: Localized[str]
    license: str
    authors: tuple[str, ...]
    framework: str | None
    grades: tuple[int, int] | None
    skills: tuple[Skill, ...]
    resources: tuple[Resource, ...]
    items: tuple[Item, ...]
    root: str
