"""Learner pages. A learner sees only their own things, never another learner's."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from classroom_server.services import accounts
from classroom_server.web.access import requires

bp = Blueprint("learner", __name__, url_prefix="/learn")


@bp.route("/")
@requires("learner")
def home() -> str:
    return render_template("learner/home.html", classes=accounts.classes_for(g.person))
