"""Settings: one table, safe defaults for a Raspberry Pi, then a TOML file, then environment.

Every setting is a row in SETTINGS so that the docs can be checked against the code
(tests/test_docs.py) and so that a bad value stops the start with a message naming it.
Order of precedence, lowest first: default, ``<data>/config.toml`` (or ``--config``),
``CLASSROOM_<NAME>`` environment variables, then the mapping a caller passes (tests, CLI flags).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "CLASSROOM_"


class ConfigError(Exception):
    """A setting has a value we cannot use; the message names the setting and where it came from."""


def _default_threads() -> int:
    """Waitress threads: enough for a class of 40 on a Pi 3, fewer on a 512 MB board."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4
    return 2 if pages < 768 * 1024 * 1024 else 6


def _as_int(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"expected a whole number between {low} and {high}")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a whole number between {low} and {high}") from None
        if not low <= number <= high:
            raise ValueError(f"expected a whole number between {low} and {high}")
        return number

    return convert


def _as_choice(*choices: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return text

    return convert


def _as_text(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("expected a non-empty text")
    return text


def _as_clock(value: Any) -> str:
    text = str(value).strip()
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23 or int(parts[1]) > 59:
        raise ValueError("expected a time of day as HH:MM, for example 02:30")
    return f"{int(parts[0]):02d}:{int(parts[1]):02d}"


def _as_quiet_hours(value: Any) -> str:
    """``HH:MM-HH:MM`` (it may run past midnight, e.g. ``22:00-06:00``), or empty for none."""
    text = str(value).strip()
    if not text:
        return ""
    start, dash, end = text.partition("-")
    try:
        if not dash:
            raise ValueError
        start, end = _as_clock(start), _as_clock(end)
    except ValueError:
        raise ValueError("expected two times of day as HH:MM-HH:MM, for example 08:00-15:00, "
                         "or empty for none") from None
    if start == end:
        raise ValueError("the quiet hours start and end at the same time; leave it empty for none")
    return f"{start}-{end}"


def _as_path_or_empty(value: Any) -> str:
    return str(value).strip()


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    convert: Callable[[Any], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "0.0.0.0", _as_text, "Address to listen on. 0.0.0.0 serves the whole classroom Wi-Fi."),
    Setting("port", 8080, _as_int(1, 65535), "TCP port of the hub."),
    Setting("threads", _default_threads(), _as_int(1, 64),
            "Waitress worker threads. Default: 6, or 2 on boards with under 768 MB of memory."),
    Setting("connection_limit", 1000, _as_int(10, 20000),
            "Open connections waitress keeps before it stops accepting new ones. A browser keeps up to 6 "
            "open to the hub, so waitress's own default of 100 left half of a class of 200 unable to sign "
            "in; each idle connection costs a file descriptor and a few KB."),
    Setting("sqlite_synchronous", "full", _as_choice("full", "normal"),
            "SQLite `synchronous` in WAL mode. `full` makes every acknowledged answer survive a power "
            "cut; `normal` is faster on SD cards but may lose the last seconds of work. "
            "See docs/performance.md."),
    Setting("sqlite_cache_kb", 8000, _as_int(500, 512000), "SQLite page cache per connection, in KiB."),
    Setting("session_hours", 8, _as_int(1, 24 * 30),
            "How long a sign-in lasts. Learners on shared devices should sign out; this is the backstop."),
    Setting("login_free_failures", 3, _as_int(1, 100),
            "Wrong sign-ins allowed per account and per device address before delays start."),
    Setting("login_max_delay_seconds", 900, _as_int(1, 86400),
            "Longest wait imposed after repeated wrong sign-ins; delays double up to this."),
    Setting("learner_wrong_tries", 30, _as_int(3, 1000),
            "Wrong sign-in tries a learner's account may spend, across every device, before its "
            "sign-in pauses until the teacher lets them in again. See docs/security.md."),
    Setting("learner_wrong_tries_refill_hours", 72, _as_int(1, 24 * 365),
            "One wrong try comes back to a learner's allowance every this many hours."),
    Setting("offline_activities", 10, _as_int(0, 50),
            "Activities of a learner's path kept ready on their device, with every picture and sound they "
            "use, so practice goes on when the Wi-Fi drops. 0 keeps none."),
    Setting("min_free_disk_mb", 50, _as_int(0, 1_000_000),
            "The hub refuses to start, and /healthz reports `degraded`, below this much free disk."),
    Setting("language", "en", _as_choice("en", "es", "fr"),
            "Default interface language when the browser asks for none we have."),
    Setting("log_level", "info", _as_choice("debug", "info", "warning", "error"), "Log verbosity."),
    Setting("secure_cookies", False, _as_bool,
            "Mark cookies Secure. Turn on only when the hub is served over HTTPS."),
    Setting("backup_time", "02:30", _as_clock,
            "When the nightly backup runs (hub's local time, HH:MM). The projection check follows 30 minutes later."),
    Setting("backup_keep", 7, _as_int(0, 365),
            "How many nightly backups to keep; older ones are deleted. 0 turns nightly backups off."),
    Setting("backup_dir", "", _as_path_or_empty,
            "Where nightly backups go. Empty: the `backups` folder in the data directory. A USB stick's "
            "mount point keeps a copy off the SD card."),
    Setting("sync_interval_minutes", 10, _as_int(0, 24 * 60),
            "How often `serve` syncs with the district, in minutes, once the hub is enrolled (a random "
            "delay of up to a fifth of it is added, so a district's hubs do not all call at once; after "
            "failures the wait doubles, up to 6 hours). 0 turns automatic sync off."),
    Setting("sync_quiet_hours", "", _as_quiet_hours,
            "No automatic sync between these times of the hub's clock, e.g. `08:00-15:00` while class "
            "is on (it may run past midnight: `22:00-06:00`). Empty: none. `sync run` and the admin's "
            "Sync now still work."),
    Setting("sync_bandwidth_kbit", 0, _as_int(0, 1_000_000),
            "Most the hub sends to the district, in kbit/s, so a sync leaves room on a thin link. "
            "0: no limit."),
    Setting("usb_mount_roots", "/media,/run/media,/mnt", _as_text,
            "Where USB sticks are mounted, comma-separated: a stick mounted under one of these folders is "
            "offered on the admin's District sync page, to carry a sync bundle to the district and its "
            "answer back."),
    Setting("insecure_fast_hashes", False, _as_bool,
            "Tests only: hash passwords and learner secrets with a cheap, insecure scheme. A hub refuses "
            "to start with it on, and never accepts a hash made with it."),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The settings file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the settings file {path}: {exc.strerror}") from None
    return data


def load_settings(
    data_dir: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve every setting, raising ConfigError that names the first bad one."""
    environ = os.environ if environ is None else environ
    data_path = Path(data_dir)
    layers: list[tuple[str, Mapping[str, Any]]] = []

    toml_path = Path(config_file) if config_file else data_path / "config.toml"
    if config_file or toml_path.exists():
        file_values = _read_toml(toml_path)
        unknown = sorted(set(file_values) - set(SETTINGS_BY_NAME))
        if unknown:
            raise ConfigError(
                f"Unknown setting {unknown[0]!r} in {toml_path}. Known settings: "
                + ", ".join(SETTINGS_BY_NAME)
            )
        layers.append((str(toml_path), file_values))

    env_values = {
        key[len(ENV_PREFIX):].lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):].lower() in SETTINGS_BY_NAME
    }
    layers.append(("environment", env_values))
    if overrides:
        layers.append(("command line", {k: v for k, v in overrides.items() if v is not None}))

    resolved: dict[str, Any] = {"data_dir": data_path}
    for setting in SETTINGS:
        value, source = setting.default, "default"
        for layer_name, values in layers:
            if setting.name in values:
                value, source = values[setting.name], layer_name
        try:
            resolved[setting.name] = setting.convert(value)
        except ValueError as exc:
            where = f"{ENV_PREFIX}{setting.name.upper()}" if source == "environment" else source
            raise ConfigError(
                f"Setting {setting.name!r} (from {where}) has the value {value!r}: {exc}."
            ) from None
    return resolved
