"""JSON Schema checks for pack.json and items, compiled once at import.

fastjsonschema turns each schema into plain Python once, so checking 10,000 items stays fast on a
Pi. A second, light walk over the same schema finds unknown fields (warnings: a typo like
"hint" for "hints" silently loses content) and collects every localized string with its JSON
pointer, so the language and media checks need no list of field names of their own.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema

from .report import Report

SCHEMA_DIR = Path(__file__).parent / "schema"
# Definitions whose values are localized: {lang: text} ("markdown" ones are shown as Markdown)
# or {lang: [accepted answers]}. Each needs every language of the pack.
LOCALIZED_DEFS = ("text", "markdown", "accepted")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _pointer_part(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


class Schema:
    """One JSON Schema file: a compiled validator plus the walk for unknown fields."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.root = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        self.defs = self.root.get("definitions", {})
        self._compiled: Callable[[Any], Any] | None = None
        self._ifs: dict[int, Callable[[Any], Any]] = {}

    def _validate(self, data: Any) -> Any:
        """Compile on first use, not at import: the hub imports this module to load packs it
        validated at import time, and the compiled validators cost ~9 MB it would never use."""
        if self._compiled is None:
            for sub in self.root.get("allOf", []):  # tiny; compiled with the rest so the walk never compiles
                if "if" in sub:
                    self._ifs[id(sub["if"])] = fastjsonschema.compile(
                        {"definitions": self.defs, **sub["if"]}, use_default=False)
            self._compiled = fastjsonschema.compile(self.root, use_default=False, fast_fail=False)
        return self._compiled(data)

    def _resolve(self, node: dict) -> tuple[dict, str | None]:
        name = None
        while isinstance(node, dict) and "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = self.defs[name]
        return node, name

    def _if_holds(self, if_node: dict, data: Any) -> bool:
        try:
            self._ifs[id(if_node)](data)
            return True
        except fastjsonschema.JsonSchemaValueException:
            return False

    def check(self, data: Any, file: str, pointer: str, report: Report) -> list[tuple[str, str, Any]]:
        """Add schema errors and unknown-field warnings; return localized strings found.

        The result is a list of (definition name, JSON pointer, value) for every value that the
        schema says is a localized string, whether or not it is well formed.
        """
        try:
            self._validate(data)
        except fastjsonschema.JsonSchemaValuesException as many:
            for exc in many.errors:
                self._report(exc, file, pointer, report)
        except fastjsonschema.JsonSchemaValueException as exc:
            self._report(exc, file, pointer, report)
        found: list[tuple[str, str, Any]] = []
        self._walk(self.root, data, pointer, file, report, found)
        return found

    def _report(self, exc: fastjsonschema.JsonSchemaValueException, file: str, pointer: str,
                report: Report) -> None:
        where = pointer + "".join("/" + _pointer_part(p) for p in exc.path[1:])
        definition = exc.definition if isinstance(exc.definition, dict) else {}
        message = definition.get("x-message")
        if message is None:
            message = exc.message
            if exc.name is not None and message.startswith(exc.name):
                message = "value " + message[len(exc.name):].strip()
            if exc.rule == "required":
                missing = [r for r in exc.rule_definition if not _has(exc.value, r)]
                message = "missing required field " + ", ".join(f"'{m}'" for m in missing)
            elif (exc.rule == "minProperties" and exc.value == {}) or (
                    exc.rule == "minLength" and exc.value == ""):
                message = "must not be empty"
            elif exc.rule == "propertyNames" and isinstance(exc.value, dict):
                bad = ", ".join(repr(k) for k in exc.value if not _LANG.match(k))
                message = f"keys must be language tags such as en, es or pt-BR, not {bad}"
        report.error(file, where, message, "schema")

    def _walk(self, node: Any, data: Any, pointer: str, file: str, report: Report,
              found: list[tuple[str, str, Any]]) -> None:
        node, ref = self._resolve(node)
        if ref in LOCALIZED_DEFS:
            found.append((ref, pointer, data))
            return
        if not isinstance(node, dict):
            return
        if isinstance(data, dict) and ("properties" in node or "allOf" in node):
            props = dict(node.get("properties", {}))
            for sub in node.get("allOf", []):
                if "if" in sub and self._if_holds(sub["if"], data):
                    then, _ = self._resolve(sub["then"])
                    props.update(then.get("properties", {}))
            for key, value in data.items():
                if key in props:
                    self._walk(props[key], value, f"{pointer}/{_pointer_part(key)}", file, report, found)
                elif "additionalProperties" not in node:
                    report.warning(file, f"{pointer}/{_pointer_part(key)}",
                                   f"unknown field '{key}' is ignored (a typo?)", "unknown-field")
        elif isinstance(data, dict) and isinstance(node.get("additionalProperties"), dict):
            for key, value in data.items():
                self._walk(node["additionalProperties"], value, f"{pointer}/{_pointer_part(key)}",
                           file, report, found)
        elif isinstance(data, list) and isinstance(node.get("items"), dict):
            for i, value in enumerate(data):
                self._walk(node["items"], value, f"{pointer}/{i}", file, report, found)


def _has(value: Any, key: str) -> bool:
    return isinstance(value, dict) and key in value


PACK_SCHEMA = Schema("pack.schema.json")
ITEM_SCHEMA = Schema("item.schema.json")
