"""The arrows of the house, enforced: pure layers import no web framework or database."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB = {"flask", "waitress", "werkzeug", "classroom_server"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


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
        top = name.split(".")[0]
        assert top not in WEB, f"{path.relative_to(ROOT)} imports {name}"


def test_services_never_touch_the_request():
    for path in _py_files("classroom_server/services"):
        for name in _imports(path):
            assert not name.startswith("flask"), f"{path.relative_to(ROOT)} imports {name}"


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
