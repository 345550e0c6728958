"""``classroom-server demo``: a complete demo school, built and served in one command."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from classroom_server.cli.common import Fail, _check_writable, _load_app, _serve, _without_postgres_drivers


@click.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to build the demo school (default: a new temporary directory).")
@click.option("--host", default="0.0.0.0", show_default=True,
              help="Address to listen on; 0.0.0.0 lets the classroom's devices reach the demo, "
                   "127.0.0.1 keeps it to this machine.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-serve", is_flag=True, help="Build the demo school and exit without serving.")
def demo(data_dir: Path | None, host: str, port: int, no_serve: bool) -> None:
    """Build a complete demo school and serve it, printing the addresses and logins."""
    _without_postgres_drivers()
    from classroom_server import demo as demo_school

    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="classroom-demo-"))
    if demo_school.holds_another_hub(data_dir):
        raise Fail(
            f"{data_dir} already holds a hub that is not a demo (it has no {demo_school.LOGINS_FILE}); "
            "the demo will not touch it. Choose a new or empty folder with --data, or leave --data out. "
            "If it is a demo whose set-up was interrupted, delete that folder and run the demo again."
        )
    _check_writable(data_dir)
    app = _load_app(data_dir, {"host": host, "port": port})
    try:
        logins = demo_school.build(data_dir, engine=app.extensions["engine"])
    except demo_school.NotADemo as exc:
        raise Fail(str(exc)) from None
    banner = demo_school.describe(logins, data_dir)
    if no_serve:
        click.echo(banner)
        return
    _serve(app, data_dir, host, port, app.config["SETTINGS"]["threads"], banner)


DEMO_DISTRICT_ROSTER = [
    {"kind": "user", "sourcedId": "district-t-1", "status": "active", "role": "teacher", "givenName": "Grace",
     "familyName": "Okafor", "username": "gokafor"},
    {"kind": "class", "sourcedId": "district-c-5", "status": "active", "title": "Class 5 (from the district)"},
    *({"kind": "user", "sourcedId": f"district-s-{n}", "status": "active", "role": "student", "givenName": given,
       "familyName": family} for n, (given, family) in enumerate(
        [("Amara", "Diallo"), ("Bruno", "Silva"), ("Chidi", "Eze"), ("Dina", "Haddad")], start=1)),
    *({"kind": "enrollment", "sourcedId": f"district-e-{n}", "status": "active", "classSourcedId": "district-c-5",
       "userSourcedId": f"district-s-{n}", "role": "student"} for n in range(1, 5)),
    {"kind": "enrollment", "sourcedId": "district-e-t1", "status": "active", "classSourcedId": "district-c-5",
     "userSourcedId": "district-t-1", "role": "teacher"},
]


DEMO_STAFF_PASSWORD = "district-demo"  # a demo's: printed with the address, like the demo hub's logins
DEMO_DISTRICT_STAFF = (("district", "District office", None), ("hillside", "Head of Hillside", "Hillside Primary"))


@click.command("demo-district")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to keep the district and the two hubs (default: a new temporary directory).")
@click.option("--database-url", "database_url", metavar="URL",
              help="The district's database (default: SQLite in the data folder); e.g. "
                   "postgresql://postgres@127.0.0.1:5432/district for a real PostgreSQL.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the three servers listen on.")
@click.option("--port", default=8080, show_default=True, type=int,
              help="The first hub's port; the second hub uses the next one, the district the one after.")
@click.option("--sync-minutes", default=1, show_default=True, type=click.IntRange(1, 60),
              help="How often each hub syncs with the district.")
def demo_district(data_dir: Path | None, database_url: str | None, host: str, port: int, sync_minutes: int) -> None:
    """A district and two demo hubs that sync with it, on this machine, in one command.

    Builds two demo schools (each with its own hub), starts the district, enrols both hubs with
    one-time codes, serves all three and syncs every --sync-minutes. Stop the district (or cut
    the link any way you like) and the hubs keep working; start it again and every answer
    arrives, once. Ctrl-C stops all three.
    """
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    root = data_dir or Path(tempfile.mkdtemp(prefix="classroom-district-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    _check_writable(root)
    database_url = database_url or f"sqlite:///{root / 'district.sqlite3'}"
    district_port = port + 2
    district_url = f"http://{host}:{district_port}"
    command = [sys.executable, "-m", "classroom_server.cli"]
    env = {**os.environ, "CLASSROOM_DISTRICT_DATABASE_URL": database_url,
           "CLASSROOM_SYNC_INTERVAL_MINUTES": str(sync_minutes)}
    hubs = [("Hillside Primary", "Room 4", root / "hub-hillside", port),
            ("Riverside School", "Library", root / "hub-riverside", port + 1)]

    def run(*args: str) -> str:
        done = subprocess.run([*command, *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise Fail(f"`classroom-server {' '.join(args[:3])}` failed: {(done.stderr or done.stdout).strip()}")
        return done.stdout

    children: list[subprocess.Popen[str]] = []

    def start(*args: str) -> None:
        children.append(subprocess.Popen([*command, *args], env=env, text=True))

    def wait_for(url: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except OSError:
                if any(child.poll() is not None for child in children):
                    raise Fail(f"A server stopped while starting; see the messages above ({url}).") from None
                time.sleep(0.2)
        raise Fail(f"{url} did not answer within 60 s.")

    try:
        click.echo(f"Building two demo schools in {root} (this takes a minute) ...")
        banners = {}
        for school, _, hub_dir, hub_port in hubs:
            banners[school] = run("demo", "--data", str(hub_dir), "--no-serve", "--host", host,
                                  "--port", str(hub_port)).strip()
            existing = run("district", "school", "list")
            if school not in existing:
                run("district", "school", "add", school)
        # The district's own roster for one school: a class that reaches its hub by the first sync.
        roster = root / "district-roster.jsonl"
        roster.write_text("\n".join(json.dumps(record) for record in DEMO_DISTRICT_ROSTER) + "\n", encoding="utf-8")
        run("district", "publish", "--school", hubs[0][0], str(roster))
        # District staff for the dashboard: the district's office, and one school's head teacher.
        accounts = run("district", "staff", "list")
        for username, name, staff_school in DEMO_DISTRICT_STAFF:
            if not accounts.startswith(f"{username}  |") and f"\n{username}  |" not in accounts:
                run("district", "staff", "add", "--username", username, "--name", name,
                    *(("--school", staff_school) if staff_school else ()), "--password", DEMO_STAFF_PASSWORD)
        district_args = ("district", "serve", "--host", host, "--port", str(district_port))
        start(*district_args)
        district_process = children[-1]
        wait_for(f"{district_url}/healthz")
        for school, room, hub_dir, _ in hubs:
            enrolled = hub_dir / "demo-enrolled"
            if not enrolled.exists():
                added = run("district", "hub", "add", "--school", school, "--name", room)
                code = next(line.split(":", 1)[1].strip() for line in added.splitlines()
                            if "enrolment code:" in line.lower())
                run("sync", "enrol", "--data", str(hub_dir), "--district", district_url, code)
                enrolled.write_text(district_url + "\n")
        for _, _, hub_dir, hub_port in hubs:
            start("serve", "--data", str(hub_dir), "--host", host, "--port", str(hub_port))
        for _, _, _, hub_port in hubs:
            wait_for(f"http://{host}:{hub_port}/healthz")
        lines = [f"The district: {district_url}/healthz (database {database_url.split('@')[-1]})",
                 f"District dashboard: {district_url}/dashboard/ - sign in as "
                 + " or ".join(f"{u} ({'every school' if not s else s})" for u, _, s in DEMO_DISTRICT_STAFF)
                 + f", password {DEMO_STAFF_PASSWORD}"]
        for school, _, hub_dir, hub_port in hubs:
            lines += ["", f"== {school}: http://{host}:{hub_port}/ ==", banners[school],
                      f"Sync status: classroom-server sync status --data {hub_dir}"]
        lines += ["", f"The district published a class for {hubs[0][0]} (Class 5, from the district): it appears on "
                  "that hub after its first sync (sign in as the admin, open Classes). Publish more with: "
                  f"classroom-server district publish --school \"{hubs[0][0]}\" FILE (docs/sync.md).",
                  f"Each hub syncs every {sync_minutes} min (or now: classroom-server sync run --data HUB).",
                  "No link? A USB stick: classroom-server sync export --data HUB --to STICK, then "
                  "classroom-server district import STICK (or the dashboard's Read bundles from a stick), then "
                  "classroom-server sync import --data HUB STICK (or the hub admin's District sync page).",
                  "Press Enter to cut the link (the district stops), Enter again to bring it back; "
                  "Ctrl-C stops all three."]
        click.echo("\n".join(lines))
        import select

        reading = sys.stdin is not None and sys.stdin.isatty()
        while all(child.poll() is None for child in children):
            if not reading:
                time.sleep(0.5)
                continue
            ready, _, _ = select.select([sys.stdin], [], [], 0.5)
            if not ready:
                continue
            if not sys.stdin.readline():
                reading = False
            elif district_process in children:
                children.remove(district_process)
                district_process.send_signal(signal.SIGINT)
                district_process.wait(timeout=20)
                click.echo("The link is cut: the district is stopped. Learners keep practising on both hubs; "
                           "their answers wait on the hubs. Press Enter to bring the link back.")
            else:
                start(*district_args)
                district_process = children[-1]
                wait_for(f"{district_url}/healthz")
                click.echo(f"The link is back: within {sync_minutes} min each hub sends what waited "
                           "(or now: classroom-server sync run --data HUB).")
        raise Fail("A server stopped; stopping the others.")
    except KeyboardInterrupt:
        click.echo("Stopping ...")
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
