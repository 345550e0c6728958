"""The learner's JavaScript must run on old phone browsers: ES5 syntax only.

The service worker is exempt from nothing syntactically (it uses only ES5 syntax too), though it
relies on browser APIs (Promise, caches) that exist wherever service workers exist at all.
"""

from pathlib import Path

import esprima
import pytest

STATIC = Path(__file__).resolve().parents[1] / "classroom_server" / "static"
ES2015_NODES = {
    "ArrowFunctionExpression", "TemplateLiteral", "TaggedTemplateExpression", "ClassDeclaration",
    "ClassExpression", "SpreadElement", "RestElement", "ArrayPattern", "ObjectPattern",
    "AssignmentPattern", "ForOfStatement", "YieldExpression", "AwaitExpression", "ImportDeclaration",
    "ExportNamedDeclaration", "ExportDefaultDeclaration", "MetaProperty", "Super",
}


def _modern_syntax(source: str) -> list[str]:
    found: list[str] = []

    def visit(node, meta):  # type: ignore[no-untyped-def]
        kind = node.type
        if kind in ES2015_NODES:
            found.append(f"{kind} at line {meta.start.line}")
        elif kind == "VariableDeclaration" and node.kind != "var":
            found.append(f"{node.kind} at line {meta.start.line}")
        elif kind in ("FunctionDeclaration", "FunctionExpression") and (node.generator or node.isAsync):
            found.append(f"generator/async function at line {meta.start.line}")
        elif kind == "Property" and (node.shorthand or node.method or node.computed):
            found.append(f"ES2015 object property at line {meta.start.line}")

    esprima.parseScript(source, {"loc": True}, visit)
    return found


@pytest.mark.parametrize("path", sorted(STATIC.glob("*.js")), ids=lambda p: p.name)
def test_javascript_is_es5(path):
    assert _modern_syntax(path.read_text(encoding="utf-8")) == []


def test_the_checker_catches_modern_syntax():
    assert _modern_syntax("const f = (a) => `x${a}`;")
