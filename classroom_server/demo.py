"""A complete demo school: an admin, 2 teachers, 2 classes and 30 learners, with printed logins.

Passwords, pictures and PINs are random for every demo (never shipped in the code) and kept in
``demo-logins.json`` (mode 0600) inside the demo's data directory so a restart shows them again.
That file is also how a demo is told apart from a real hub, which the demo never touches.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from classroom_server.db import database_path, db
from classroom_server.models import Classroom, Person
from classroom_server.services import accounts, courses, hub, packs, security

LOGINS_FILE = "demo-logins.json"
LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
# What each demo class studies: grade 2 the number sense pack, grade 4 fractions for grades 3 and 4
DEMO_COURSES = ([courses.Course("org.openclassroom.numbers")], [courses.Course("org.openclassroom.fractions", (3, 4))])
FIRST_NAMES = [
    "Amara", "Bruno", "Chen", "Dalia", "Emeka", "Fatima", "Gabriel", "Hana", "Ivan", "Jamila",
    "Kofi", "Lucía", "Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Samuel", "Tariq",
    "Uma", "Víctor", "Wanjiru", "Xavier", "Yara", "Zainab", "Aiko", "Bilal", "Carmen", "Diego",
]


class NotADemo(Exception):
    """The data directory already holds a hub with people in it that is not a demo."""


def holds_another_hub(data_dir: Path) -> bool:
    """True when ``data_dir`` holds a hub with people in it but no demo logins: not ours to touch.

    Reads the database directly, before anything (such as a migration) could change it.
    """
    path = database_path(Path(data_dir))
    if (Path(data_dir) / LOGINS_FILE).exists() or not path.is_file():
        return False
    try:
        con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            return con.execute("SELECT 1 FROM person LIMIT 1").fetchone() is not None
        finally:
            con.close()
    except sqlite3.OperationalError as exc:
        return "no such table" not in str(exc)  # an empty database is fine; an unreadable one is not ours
    except sqlite3.DatabaseError:
        return True


def build(data_dir: Path, seed: int | None = None, engine: Any = None) -> dict[str, Any]:
    """Create the demo school in an initialised or empty data directory; reuse it if present.

    Raises NotADemo for a hub that already has people but no demo logins.
    """
    logins_path = Path(data_dir) / LOGINS_FILE
    if logins_path.exists():
        return json.loads(logins_path.read_text())
    rng = random.Random(seed if seed is not None else secrets.randbits(64))
    logins: dict[str, Any] = {"staff": [], "classes": []}
    with db.connection_context():
        if Person.select().exists():
            raise NotADemo(
                f"{data_dir} already holds a hub that is not a demo (it has no {LOGINS_FILE}); "
                "the demo will not touch it. Choose a new or empty folder."
            )
        hub.initialize_identity()
        admin_password = secrets.token_urlsafe(8)
        admin = accounts.create_staff("admin", "admin", "Demo Admin", admin_password)
        logins["staff"].append({"role": "admin", "username": "admin", "password": admin_password})
        teachers = []
        for username, name in (("ms.okafor", "Ms Okafor"), ("mr.silva", "Mr Silva")):
            password = secrets.token_urlsafe(8)
            teachers.append(accounts.create_staff("teacher", username, name, password, actor=admin))
            logins["staff"].append({"role": "teacher", "username": username, "password": password})
        plan = (("Grade 2 Sunflowers", "picture", teachers[0]), ("Grade 4 Baobabs", "pin", teachers[1]))
        names = iter(FIRST_NAMES)
        for class_name, kind, teacher in plan:
            classroom = accounts.create_class(class_name, kind, [teacher.id], admin)
            entry: dict[str, Any] = {"name": class_name, "id": classroom.id, "kind": kind,
                                     "teacher": teacher.username, "learners": []}
            for _ in range(15):
                if kind == "picture":
                    secret: Any = [rng.choice(security.PICTURES) for _ in range(security.PICTURE_COUNT)]
                else:
                    secret = f"{rng.randrange(10000):04d}"
                learner = accounts.create_learner(
                    classroom, next(names), rng.choice(accounts.AVATAR_COLOURS), secret, teacher
                )
                entry["learners"].append({"id": learner.id, "name": learner.display_name, "secret": secret})
            logins["classes"].append(entry)
    logins["packs"] = install_bundled_packs(Path(data_dir))
    with db.connection_context():  # each class studies its grade's course
        for entry, studies in zip(logins["classes"], DEMO_COURSES, strict=True):
            classroom = Classroom.get_by_id(entry["id"])
            installed = {name.split()[0] for name in logins["packs"]}
            courses.set_courses(admin, classroom, [c for c in studies if c.pack_id in installed])
    if engine is not None:
        from classroom_server.demo_practice import simulate

        with db.connection_context():
            learners = list(Person.select().where(Person.role == "learner").order_by(Person.id))
            logins["practice_answers"] = simulate(engine, learners)
    fd = os.open(logins_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(logins, fh, indent=2, ensure_ascii=False)
    return logins


def install_bundled_packs(data_dir: Path) -> list[str]:
    """Import every pack that ships in content_packs/library/."""
    installed = []
    if LIBRARY.is_dir():
        for _source, outcome in packs.iter_import(data_dir, LIBRARY):
            if isinstance(outcome, packs.ImportFailed):
                raise outcome
            installed.append(f"{outcome.pack_id} {outcome.version}")
    return installed


def describe(logins: dict[str, Any], data_dir: Path) -> str:
    """The banner printed by ``classroom-server demo``: who can sign in, and how."""
    lines = ["", "Demo school logins (all of them are in " + str(Path(data_dir) / LOGINS_FILE) + "):"]
    for staff in logins["staff"]:
        lines.append(f"  {staff['role']:8} username {staff['username']:10} password {staff['password']}")
    for entry in logins["classes"]:
        lines.append(f"  class {entry['name']!r} (teacher {entry['teacher']}), learners sign in with "
                     + ("3 pictures:" if entry["kind"] == "picture" else "a PIN:"))
        for learner in entry["learners"][:3]:
            secret = " ".join(learner["secret"]) if isinstance(learner["secret"], list) else learner["secret"]
            lines.append(f"    {learner['name']:10} {secret}")
        lines.append(f"    ... and {len(entry['learners']) - 3} more")
    lines.append("Content packs: " + (", ".join(logins.get("packs", [])) or "none"))
    if logins.get("practice_answers"):
        lines.append(f"Simulated practice: {logins['practice_answers']} answers over the last 3 school days.")
    return "\n".join(lines)


def learner_count() -> int:
    return Person.select().where(Person.role == "learner").count()
