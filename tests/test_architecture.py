"""The arrows of the house, enforced: pure layers import no web framework or database, the web
layer reaches the database only through services, and services never import the web layer."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB = {"flask", "waitress", "werkzeug", "classroom_server", "peewee", "playhouse", "sqlite3"}
PURE = ("classroom_server.eventkinds", "classroom_server.learning", "classroom_server.projection_rules",
        "classroom_server.growth_rules")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, source: str | None = None, module: str | None = None) -> set[str]:
    """Every module ``path`` imports, anywhere in it (inside functions too): ``from a import b``
    gives ``a`` and ``a.b`` (b may be a module), and relative imports are made absolute."""
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    module = _module_name(path) if module is None else module
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join(base + ([node.module] if node.module else []))
            if origin:
                names.add(origin)
                names.update(f"{origin}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _is_within(name: str, modules: tuple[str, ...]) -> bool:
    return any(name == m or name.startswith(m + ".") for m in modules)


def _py_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _py_files("classroom_server/learning"), ids=str)
def test_learning_uses_only_the_standard_library_and_fsrs(path):
    for name in _imports(path):
        top = name.split(".")[0]
        allowed = top in sys.stdlib_module_names or top == "fsrs" or name.startswith("classroom_server.learning")
        assert allowed, f"{path.relative_to(ROOT)} imports {name}"


@pytest.mark.parametrize("path", _py_files("content_packs") + _py_files("sync"), ids=str)
def test_packs_and_sync_protocol_never_import_the_web_or_the_hub(path):
    if "district" in path.parts:
        return
    for name in _imports(path):
        if _is_within(name, PURE) or name == "classroom_server":
            continue  # the hub's pure rules: the event kinds and the learning engine
        top = name.split(".")[0]
        assert top not in WEB, f"{path.relative_to(ROOT)} imports {name}"


def test_the_simple_projection_rules_use_only_the_standard_library():
    path = ROOT / "classroom_server" / "projection_rules.py"
    for name in _imports(path):
        assert name.split(".")[0] in sys.stdlib_module_names, f"projection_rules.py imports {name}"


def test_the_growth_rules_use_only_the_standard_library_and_the_learning_engine():
    """The district's growth figures are the hub's: both compute them with growth_rules.py."""
    path = ROOT / "classroom_server" / "growth_rules.py"
    for name in _imports(path):
        assert name.split(".")[0] in sys.stdlib_module_names or _is_within(name, ("classroom_server.learning",)), \
            f"growth_rules.py imports {name}"


def test_the_district_computes_projections_with_the_hubs_pure_code_only():
    """The district's numbers come from the hub's pure modules, never from the hub's services,
    models or database (DESIGN.md, "Reproducible projections")."""
    path = ROOT / "sync" / "district" / "projections.py"
    names = _imports(path)
    assert "classroom_server.learning.adapter" in names and "classroom_server.projection_rules" in names
    for name in names:
        if name.startswith("classroom_server"):
            assert _is_within(name, PURE) or name == "classroom_server", f"sync/district/projections.py imports {name}"
        assert name.split(".")[0] not in ("flask", "werkzeug", "waitress"), f"sync/district/projections.py imports {name}"


def test_services_never_touch_the_request():
    for path in _py_files("classroom_server/services"):
        for name in _imports(path):
            assert not name.startswith("flask"), f"{path.relative_to(ROOT)} imports {name}"


# web -> services -> models: a handler keeps to HTTP (forms, sessions, redirects, templates) and
# asks a service for anything stored. It may show what a service returns (a model instance
# included), but it never imports the models, the database or its driver, nor records an event.
DATABASE = ("classroom_server.models", "classroom_server.db", "classroom_server.services.events",
            "peewee", "playhouse", "sqlite3")
QUERIES = {"select", "get_or_none", "get_by_id", "insert_many", "execute", "on_conflict_replace"}


def _web_problems(path: Path, source: str | None = None, module: str | None = None) -> list[str]:
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    problems = [f"imports {name}" for name in sorted(_imports(path, source, module)) if _is_within(name, DATABASE)]
    problems += [f"line {node.lineno} queries the database (.{node.attr})" for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and node.attr in QUERIES]
    return problems


@pytest.mark.parametrize("path", _py_files("classroom_server/web"), ids=str)
def test_the_web_layer_reaches_the_database_only_through_services(path):
    assert _web_problems(path) == [], f"{path.relative_to(ROOT)}: move this into a service"


@pytest.mark.parametrize("path", _py_files("classroom_server/services"), ids=str)
def test_services_never_import_the_web_layer(path):
    for name in _imports(path):
        assert not _is_within(name, ("classroom_server.web", "flask", "flask_wtf", "waitress")), \
            f"{path.relative_to(ROOT)} imports {name}"


@pytest.mark.parametrize("source", [
    "from classroom_server.models import Person",
    "from classroom_server import models",
    "import classroom_server.models.people",
    "from ..models import Person",
    "def f():\n    from peewee import OperationalError",
    "import peewee",
    "from classroom_server.services import accounts, events",
    "from classroom_server import db as database",
    "import sqlite3",
    "rows = list(accounts.Person.select())",
    "person = Person.get_or_none(Person.id == 1)",
])
def test_the_web_rule_catches_each_way_in(source):
    """The check above would notice each of these in a module of classroom_server/web/."""
    path = ROOT / "classroom_server" / "web" / "example.py"
    assert _web_problems(path, source, "classroom_server.web.example")


def test_the_services_rule_catches_relative_and_late_imports():
    path = ROOT / "classroom_server" / "services" / "example.py"
    for source in ("from ..web import home_url", "def f():\n    from classroom_server import web",
                   "from classroom_server.web.practice import decode_answer"):
        names = _imports(path, source, "classroom_server.services.example")
        assert any(_is_within(n, ("classroom_server.web",)) for n in names), source


def test_the_web_layer_loads_the_learning_engine_on_first_use_only():
    """Idle memory: starting the hub must not import the engine, the pack format or Markdown."""
    code = ("import sys\n"
            "from classroom_server.app import create_app\n"
            "import classroom_server.web.learner, classroom_server.web.teacher, classroom_server.web.practice\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fsrs', 'markdown', 'content_packs')\n"
            "             or m.startswith('classroom_server.learning')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_learner_pages_name_the_engines_mastery_states():
    from classroom_server.learning import mastery
    from classroom_server.web import learner

    assert set(learner.STATE_ORDER) == {mastery.MASTERED, mastery.PROFICIENT, mastery.NEEDS_REVIEW,
                                        mastery.LEARNING, mastery.NOT_STARTED}


def _module_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Our modules a module imports when it is loaded (top-level statements; imports inside
    functions and under `if TYPE_CHECKING:` run later or never, so they make no circle)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            found |= submodules if node.module is None or submodules else {base}
            if node.module is not None:
                found.add(base)
    return {m for m in found if m in known and m != name}


def test_no_import_circles_at_module_level():
    modules: dict[str, Path] = {}
    for top in ("classroom_server", "content_packs", "sync"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: _module_imports(name, path, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                circles.append(" -> ".join(stack[stack.index(other):] + [other]))
            elif other not in state:
                visit(other)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert circles == []
