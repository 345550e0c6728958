"""The Raspberry Pi installer: what it would do, checked without touching the machine."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_installer_dry_run_plans_a_complete_install():
    result = subprocess.run(["bash", str(ROOT / "scripts/pi/install.sh"), "--dry-run"],
                            capture_output=True, text=True, timeout=60, check=True)
    steps = result.stdout
    for expected in ("python3 -m venv /opt/classroom-server/.venv", "classroom-server init --data /var/lib/classroom-server",
                     "pack import --data /var/lib/classroom-server", "systemctl enable classroom-server"):
        assert expected in steps, expected


def test_the_unit_runs_serve_as_an_unprivileged_user_with_the_data_directory():
    unit = (ROOT / "scripts/pi/classroom-server.service").read_text()
    assert "User=classroom" in unit and "NoNewPrivileges=yes" in unit
    assert "Environment=CLASSROOM_DATA=/var/lib/classroom-server" in unit
    assert "ExecStart=/opt/classroom-server/.venv/bin/classroom-server serve" in unit
