#!/usr/bin/env bash
# Install (or upgrade) the classroom hub on a Raspberry Pi OS / Debian machine, from this checkout.
#
#   sudo scripts/pi/install.sh            install or upgrade, then start the service
#   scripts/pi/install.sh --dry-run       print what it would do, change nothing
#
# Creates the `classroom` user, a virtual environment in /opt/classroom-server, the data directory
# /var/lib/classroom-server (hub identity, secret key, first admin: asked for once), imports the
# bundled packs, and installs and starts the systemd unit. Running it again upgrades: it takes a
# backup first, reinstalls the package, and restarts (migrations run at start).
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
APP=/opt/classroom-server
DATA=/var/lib/classroom-server
UNIT=/etc/systemd/system/classroom-server.service
DRY=""
[ "${1:-}" = "--dry-run" ] && DRY=1

run() {
    echo "+ $*"
    if [ -z "$DRY" ]; then "$@"; fi
}

if [ -z "$DRY" ] && [ "$(id -u)" -ne 0 ]; then
    echo "Run it with sudo (or try --dry-run to see what it does)." >&2
    exit 1
fi

run apt-get install -y --no-install-recommends python3 python3-venv
if ! id classroom >/dev/null 2>&1; then
    run useradd --system --home-dir "$DATA" --shell /usr/sbin/nologin classroom
fi
run mkdir -p "$APP" "$DATA"
run chown classroom:classroom "$DATA"
run chmod 0750 "$DATA"
if [ -f "$DATA/hub.sqlite3" ]; then
    run sudo -u classroom "$APP/.venv/bin/classroom-server" backup --data "$DATA" --to "$DATA/backups"
fi
[ -x "$APP/.venv/bin/python" ] || run python3 -m venv "$APP/.venv"
run "$APP/.venv/bin/pip" install --quiet --upgrade "$SRC"
if [ ! -f "$DATA/hub.sqlite3" ]; then
    run sudo -u classroom "$APP/.venv/bin/classroom-server" init --data "$DATA"
    run sudo -u classroom "$APP/.venv/bin/classroom-server" pack import --data "$DATA" "$SRC/content_packs/library"
fi
run install -m 0644 "$SRC/scripts/pi/classroom-server.service" "$UNIT"
run systemctl daemon-reload
run systemctl enable classroom-server
run systemctl restart classroom-server
echo "The hub is at http://$(hostname).local:8080/ (or this machine's address). Logs: journalctl -u classroom-server"
