"""The docs are checked against the code: every setting and every command is documented."""

import subprocess
import sys
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


def test_the_command_reference_in_cli_md_is_current():
    """docs/cli.md holds every command's --help, generated; a changed help text must be regenerated."""
    script = DOCS.parent / "scripts" / "docs" / "cli-reference"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr or done.stdout  # it names the command to run


def test_readme_starts_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text()
    head = readme[: readme.index("## Run a real hub")]
    assert "    scripts/demo\n" in head and "    scripts/test\n" in head
