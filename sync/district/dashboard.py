"""What the district dashboard shows of schools and hubs, read from the district's tables. No Flask.

Every number here is a count over rows the sync keeps (origins' high-water marks, the quarantine,
what each hub last said it holds): a few rows per hub, so the overview of 200 schools stays a
handful of grouped queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from peewee import fn

from sync.district.models import Hub, Origin, Quarantine, ReturnFile, School
from sync.district.staff import Scope

KEEP_RETURNS = 5  # return bundles kept per hub for download


@dataclass(frozen=True)
class HubRow:
    id: int
    name: str
    school_id: int
    state: str  # "waiting" (for its code), "enrolled", "revoked"
    hub_id: str | None
    last_contact_at: str | None  # the network
    last_bundle_at: str | None  # a stick
    held: int  # events the district holds from it
    waiting: int | None  # events it held that the district lacks, as it last said (None: never said)
    quarantined: int
    protocol_version: int | None
    problem: str | None

    @property
    def last_seen(self) -> str | None:
        seen = [t for t in (self.last_contact_at, self.last_bundle_at) if t]
        return max(seen) if seen else None

    @property
    def via(self) -> str | None:
        if not self.last_seen:
            return None
        return "stick" if self.last_seen == self.last_bundle_at else "network"


@dataclass
class SchoolRow:
    id: int
    name: str
    hubs: list[HubRow] = field(default_factory=list)

    @property
    def held(self) -> int:
        return sum(h.held for h in self.hubs)

    @property
    def waiting(self) -> int:
        return sum(h.waiting or 0 for h in self.hubs)


def _state(row: Hub) -> str:
    if row.revoked_at:
        return "revoked"
    return "enrolled" if row.hub_id else "waiting"


def overview(scope: Scope) -> list[SchoolRow]:
    """Every school the scope allows, with its hubs."""
    schools = {s.id: SchoolRow(int(s.id), s.name) for s in scope.schools()}
    if not schools:
        return []
    hubs = list(Hub.select().where(Hub.school.in_(list(schools))).order_by(Hub.name, Hub.id))
    ids = [int(h.id) for h in hubs]
    marks: dict[int, dict[str, int]] = {}
    if ids:
        for origin, hub, hwm in cast("list[tuple[str, int, int]]", list(
                Origin.select(Origin.origin, Origin.hub, Origin.hwm).where(Origin.hub.in_(ids)).tuples())):
            marks.setdefault(int(hub), {})[origin] = int(hwm)
    refused = dict(cast("list[tuple[int, int]]", list(
        Quarantine.select(Quarantine.hub, fn.COUNT(Quarantine.id)).where(Quarantine.hub.in_(ids))
        .group_by(Quarantine.hub).tuples()))) if ids else {}
    for row in hubs:
        held = marks.get(int(row.id), {})
        schools[int(row.school_id)].hubs.append(HubRow(
            id=int(row.id), name=row.name, school_id=int(row.school_id), state=_state(row), hub_id=row.hub_id,
            last_contact_at=row.last_contact_at, last_bundle_at=row.last_bundle_at, held=sum(held.values()),
            waiting=_waiting(row.reported, held), quarantined=int(refused.get(int(row.id), 0)),
            protocol_version=row.protocol_version, problem=row.last_problem))
    return list(schools.values())


def _waiting(reported: str | None, held: dict[str, int]) -> int | None:
    if not reported:
        return None
    try:
        said: Any = json.loads(reported)
    except ValueError:
        return None
    if not isinstance(said, dict):
        return None
    return sum(max(0, int(n) - held.get(origin, 0)) for origin, n in said.items() if isinstance(n, int))


def hub_in(scope: Scope, registration_id: int) -> Hub | None:
    """A hub registration the scope allows, else None."""
    found = Hub.select(Hub, School).join(School).where(Hub.id == registration_id).first()
    if found is None or not scope.allows(int(found.school_id)):
        return None
    return found


def keep_return(registration: Hub, name: str, data: bytes, created_at: str) -> ReturnFile:
    """Keep a return bundle for its download; older ones beyond the newest few go."""
    kept = ReturnFile.create(hub=registration.id, name=name, data=data, size=len(data), created_at=created_at)
    old = [r.id for r in ReturnFile.select(ReturnFile.id).where(ReturnFile.hub == registration.id)
           .order_by(ReturnFile.id.desc()).offset(KEEP_RETURNS)]
    if old:
        ReturnFile.delete().where(ReturnFile.id.in_(old)).execute()
    return kept


def returns_of(scope: Scope, registration_ids: list[int]) -> dict[int, list[ReturnFile]]:
    """The return bundles kept per hub (without their bytes), newest first."""
    if not registration_ids:
        return {}
    rows = (ReturnFile.select(ReturnFile.id, ReturnFile.hub, ReturnFile.name, ReturnFile.size, ReturnFile.created_at)
            .join(Hub).where(ReturnFile.hub.in_(registration_ids)).order_by(ReturnFile.id.desc()))
    found: dict[int, list[ReturnFile]] = {}
    for row in rows:
        found.setdefault(int(row.hub_id), []).append(row)
    return found


def return_file(scope: Scope, file_id: int) -> ReturnFile | None:
    found = ReturnFile.select(ReturnFile, Hub).join(Hub).where(ReturnFile.id == file_id).first()
    if found is None or not scope.allows(int(found.hub.school_id)):
        return None
    return found
