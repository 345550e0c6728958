"""The docs are checked against the code: every setting and every command is documented."""

from pathlib import Path

from classroom_server.cli import main
from classroom_server.config import SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text()
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in text, setting.name


def test_every_command_is_documented():
    text = (DOCS / "cli.md").read_text()
    for name, command in main.commands.items():
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for sub in subcommands:
                assert f"`{name} {sub}" in text, f"{name} {sub}"
        else:
            assert f"`{name} " in text or f"`{name}`" in text, name


def test_readme_starts_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text()
    head = readme[: readme.index("## Run a real hub")]
    assert "    scripts/demo\n" in head and "    scripts/test\n" in head
