"""Times as people say them on staff pages ("5 minutes ago", "yesterday at 14:05"), in the page's
language; the exact time stays in a tooltip. Stored times are ISO 8601 in UTC; they are shown
in the hub's local time, which is only as right as the hub's clock (a Pi has no battery clock)."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape

from classroom_server import clock
from classroom_server.i18n import gettext as _
from classroom_server.i18n import ngettext


def _parse(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def in_words(value: str | None, now: dt.datetime | None = None) -> str:
    """``value`` (ISO 8601) relative to ``now``: "just now", "3 hours ago", "yesterday at 14:05",
    "12 days ago", else the date. A time ahead of the hub's clock is shown as a date and time."""
    moment = _parse(value)
    if moment is None:
        return _("never")
    now = now or clock.now()
    local, local_now = moment.astimezone(), now.astimezone()
    seconds = (now - moment).total_seconds()
    if seconds < -120:
        return _("%(date)s at %(time)s", date=local.strftime("%Y-%m-%d"), time=local.strftime("%H:%M"))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        return ngettext("%(num)d minute ago", "%(num)d minutes ago", int(seconds // 60))
    days = (local_now.date() - local.date()).days
    if days == 0:
        return ngettext("%(num)d hour ago", "%(num)d hours ago", int(seconds // 3600))
    if days == 1:
        return _("yesterday at %(time)s", time=local.strftime("%H:%M"))
    if days < 31:
        return ngettext("%(num)d day ago", "%(num)d days ago", days)
    return _("on %(date)s", date=local.strftime("%Y-%m-%d"))


def time_tag(value: str | None) -> Markup:
    """``<time>`` with the words, and the exact local time as its tooltip (a Jinja filter)."""
    words = in_words(value)
    moment = _parse(value)
    if moment is None:
        return Markup(escape(words))
    exact = moment.astimezone().strftime("%Y-%m-%d %H:%M")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(value, exact, words)
