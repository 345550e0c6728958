"""Expanding a compiled item template into its instances: ordinary items with ids "<id>~n".

Expansion is deterministic: instance n draws from random.Random seeded with the string
"<pack id>/<template id>/<n>" and uses only .random(), whose output for a given seed Python
guarantees across versions and machines; all arithmetic is exact (fractions.Fraction).
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .expression_eval import ExprError, _condition, format_value
from .expressions import MAX_ENUMERATE, MAX_TRIES, TemplateError, Text
from .templates import Param, Template, _pointer_part, compile_template


@dataclass(slots=True)
class Instance:
    """One expansion: its number, the values drawn and the item made with them."""
    n: int
    env: dict[str, Any]
    item: dict[str, Any] | None = None
    repeats: int | None = None            # the earlier instance with the same values, if any

    @property
    def label(self) -> str:
        shown = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else format_value(v)}"
                          for k, v in self.env.items())
        return f"({shown})" if shown else ""


def _render(value: Any, env: dict[str, Any], pointer: str = "") -> Any:
    if isinstance(value, Text):
        try:
            return value.render(env)
        except ExprError as exc:
            raise TemplateError(exc.message, pointer) from None
    if isinstance(value, dict):
        return {k: _render(v, env, f"{pointer}/{_pointer_part(k)}") for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, env, f"{pointer}/{i}") for i, v in enumerate(value)]
    return value


def _in_turn(values: Iterable[Any]) -> Callable[[Param], Any]:
    """A `drawn` for _Sampler._complete that gives the values one after the other."""
    given = iter(values)
    return lambda p: next(given)


class _Sampler:
    """Draws the values of each instance in turn, remembering those already used.

    Draws are rejection sampling: draw every parameter, keep the values if every `where` holds
    and no earlier instance has them. When MAX_TRIES draws find nothing new (a rare condition,
    or few possible values), every combination is listed once, if there are at most
    MAX_ENUMERATE, and the instance takes an unused one, or repeats one when all are used.
    """

    def __init__(self, template: Template, pack_id: str) -> None:
        self.template = template
        self.pack_id = pack_id
        self.used: dict[tuple, int] = {}
        self.pool: list[dict[str, Any]] | None = None
        self.space = 1
        for p in template.params:
            if p.expr is None:
                self.space = min(self.space * (len(p.values) if p.values is not None else p.count),
                                 MAX_ENUMERATE + 1)

    def _complete(self, env: dict[str, Any], n: int, drawn: Callable[[Param], Any]) -> bool:
        """Fill env parameter by parameter; True if every `where` condition holds."""
        t = self.template
        for p in t.params:
            try:
                env[p.name] = p.expr.evaluate(env) if p.expr is not None else drawn(p)
            except ExprError as exc:
                raise TemplateError(f"instance {t.id}~{n} {Instance(n, env).label}: parameter '{p.name}': "
                                    f"{exc.message}", f"/template/params/{_pointer_part(p.name)}/value") from None
        for pointer, expr in t.where:
            try:
                if not _condition(expr.evaluate(env), "where", 0):
                    return False
            except ExprError as exc:
                raise TemplateError(f"instance {t.id}~{n} {Instance(n, env).label}: '{expr.source}': "
                                    f"{exc.message}", pointer) from None
        return True

    @staticmethod
    def _key(env: dict[str, Any]) -> tuple:
        return tuple((k, type(v).__name__, v) for k, v in env.items())

    def _take(self, n: int, env: dict[str, Any]) -> Instance:
        key = self._key(env)
        if key in self.used:
            return Instance(n, env, repeats=self.used[key])
        self.used[key] = n
        return Instance(n, env)

    def _enumerate(self, n: int) -> list[dict[str, Any]]:
        params = self.template.params
        lists = [p.values if p.values is not None else [p.nth(k) for k in range(p.count)]
                 for p in params if p.expr is None]
        pool = []
        for combo in itertools.product(*lists):
            env: dict[str, Any] = {}
            if self._complete(env, n, _in_turn(combo)):
                pool.append(env)
        return pool

    def draw(self, n: int) -> Instance:
        t = self.template
        rng = random.Random(f"{self.pack_id}/{t.id}/{n}")
        if self.pool is None:
            repeat: dict[str, Any] | None = None
            for _ in range(MAX_TRIES):
                env: dict[str, Any] = {}
                if self._complete(env, n, lambda p: p.draw(rng)):
                    if self._key(env) not in self.used:
                        return self._take(n, env)
                    repeat = repeat or env
            if self.space > MAX_ENUMERATE:
                if repeat is not None:
                    return self._take(n, repeat)
                raise TemplateError(f"no values meeting where found in {MAX_TRIES} draws for {t.id}~{n}: "
                                    "widen the ranges or relax the conditions", "/template/where")
            self.pool = self._enumerate(n)
        if not self.pool:
            raise TemplateError(f"no values satisfy where (none of the {self.space} combinations of values "
                                "does)", "/template/where")
        fresh = [env for env in self.pool if self._key(env) not in self.used] or self.pool
        return self._take(n, dict(fresh[min(int(rng.random() * len(fresh)), len(fresh) - 1)]))


def instances(template: Template, pack_id: str) -> Iterator[Instance]:
    """Expand a checked template: one Instance per n = 1..instances, each with its item dict.

    Raises TemplateError (with a pointer into the template item) when an instance cannot be made.
    """
    sampler = _Sampler(template, pack_id)
    for n in range(1, template.instances + 1):
        inst = sampler.draw(n)
        try:
            item = _render(template.body, inst.env)
        except TemplateError as exc:
            raise TemplateError(f"instance {template.id}~{n} {inst.label}: {exc.message}", exc.where) from None
        item["id"] = f"{template.id}~{n}"
        inst.item = item
        yield inst


def expand_item(item: dict, pack_id: str) -> list[dict]:
    """The concrete items of one template item (for the loader). Raises TemplateError."""
    template, problems = compile_template(item)
    if template is None:
        first = next((p for p in problems if p[0] == "error"), ("error", "/template", "invalid template"))
        raise TemplateError(first[2], first[1])
    items = []
    for inst in instances(template, pack_id):
        assert inst.item is not None  # instances() fills it before yielding
        items.append(inst.item)
    return items
