"""Feedback words for a wrong answer, and the verdict table a practice item's page carries so the
learner's browser can give that feedback when the Wi-Fi is down (#19; content_packs/verdicts.py).

The table is the pack's own grading, done ahead by the hub: the browser only looks an answer up.
Only an item shown for practice carries one: a mastery check, a review, a test-out or a placement
question is graded by the hub alone, its key never sent ahead. A practice item's key on its page
tells a curious learner no more than its feedback page does after one answer (the right answer).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from classroom_server.i18n import gettext as _
from classroom_server.web.render import render_markdown


def wrong_feedback(feedback: str | None, reason: str | None, pack_id: str) -> Markup | str:
    """What the hub says about a wrong answer: the pack's feedback for the mistake, else a word
    for the kind of slip (the grader's reason), else encouragement."""
    if feedback:
        return render_markdown(feedback, pack_id)
    generic = {
        "unreadable": _("I could not read that answer. Check how you wrote it."),
        "form": _("Right number, but write it the way the question asks."),
        "not_simplest": _("Right value! Now write it in simplest form."),
        "incomplete": _("Some of it is right. Look again at the rest."),
    }
    return generic.get(reason or "", _("Not yet. Look at the hint and try another one."))


def graded_on_device(mode: str) -> bool:
    """Does this item's page carry its verdict table? Practice only (see above)."""
    return mode == "practice"


def local_grading(pack: Any, item: Any, lang: str) -> dict[str, Any]:
    """The verdict table of a practice item in `lang`, for the page: ``table`` maps a response's
    key to -1 (right) or to the index of its feedback in ``feedback`` (wrong), the feedback HTML
    written once however many answers share it."""
    from content_packs.verdicts import verdict_table  # the first practice page loads it, not the start

    feedback: list[str] = []
    table: dict[str, int] = {}
    for key, (_response, grade) in verdict_table(item, lang).items():
        if grade.correct:
            table[key] = -1
            continue
        said = str(escape(wrong_feedback(grade.feedback, grade.reason, pack.id)))  # as the feedback page shows it
        if said not in feedback:
            feedback.append(said)
        table[key] = feedback.index(said)
    return {"table": table, "feedback": [Markup(f) for f in feedback]}
