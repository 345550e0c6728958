"""Sync between hubs and the district: the protocol, the hub's client, USB bundles, and
sync/district/ (the district server on PostgreSQL).

Nothing is here yet: the hub's event log (classroom_server/services/events.py: origin, gapless
per-origin sequence, idempotent event ids) is already shaped for it, following the design in
the project's research notes on sync. The package exists because the distribution declares it.
"""
