"""The district dashboard: pages for district staff on the district server, beside the sync API.

Staff sign in with their own accounts (``classroom-server district staff add``); a school's staff
see only their school, the district's staff every school and may also register and revoke hubs
and read bundles carried in on a stick. Every form carries a CSRF token; sign-in slows down after
failures; a session ends when its account is disabled, its password changed, or it signs out
everywhere. Pages are server-rendered with the hub's stylesheet: no script is needed.
"""

from __future__ import annotations

import functools
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from markupsafe import Markup

from classroom_server import __version__, i18n
from classroom_server.i18n import gettext as _
from classroom_server.web.dates import time_tag
from classroom_server.web.headers import add_security_headers
from sync.district import bundles, dashboard, service, staff
from sync.district.models import School

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates")
csrf = CSRFProtect()
HUB_TEMPLATES = Path(__file__).resolve().parents[2] / "classroom_server" / "templates"
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # bundles carried on a stick: a year of a school's events is far smaller


def init_app(app: Flask) -> None:
    """Add the dashboard to the district's app: sessions signed with the district's own key,
    CSRF on the dashboard's forms (the sync API is signed per request and needs none), the
    hub's translations, stylesheet and time words."""
    database = app.extensions["district_database"]
    with database.connection_context():
        app.secret_key = staff.session_key()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", WTF_CSRF_CHECK_DEFAULT=False,
                      WTF_CSRF_TIME_LIMIT=None, SESSION_COOKIE_NAME="district_session")
    csrf.init_app(app)
    i18n.init_app(app, default_language="en", api_prefix="/sync/")
    app.jinja_env.filters["when"] = time_tag
    app.jinja_env.globals["asset"] = lambda filename: f"/static/{filename}?v={__version__}"
    app.add_url_rule("/", endpoint="index", view_func=lambda: redirect(url_for("dashboard.home")))
    # The hub's report macros (the period form) beside the dashboard's own templates.
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(Path(__file__).parent / "templates")),
                                     PrefixLoader({"hub": FileSystemLoader(str(HUB_TEMPLATES))})])
    # Each page module adds its pages to the blueprint as it is imported.
    from sync.district import calibration_pages, growth_pages, move_pages, roster_pages  # noqa: F401

    app.register_blueprint(bp)
    app.after_request(_page_headers)


def _page_headers(response: Response) -> Response:
    """The pages' security headers (classroom_server/web/headers.py), not on the sync API's
    answers: a hub reads no page, and 330 bytes on every answer would be a third of a sync with
    nothing to do on a slow link."""
    if request.path.startswith("/sync/"):
        return response
    return add_security_headers(response)


@bp.before_request
def _load_staff() -> None:
    g.staff = staff.current(session.get("staff"), session.get("v"))
    if request.endpoint == "dashboard.bundle_upload" and g.staff is not None and g.staff.school_id is None:
        # Bundles are larger than the sync API's requests: raised before the form is read.
        request.max_content_length = MAX_UPLOAD_BYTES
    if request.method == "POST":
        csrf.protect()


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    return render_template("district/message.html", title=_("This form has expired"),
                           message=_("Go back, reload the page and try again.")), 400


def signed_in(district_only: bool = False) -> Callable[[Callable[..., ResponseReturnValue]],
                                                      Callable[..., ResponseReturnValue]]:
    """A page for signed-in staff (``district_only``: the district's staff, not a school's)."""

    def wrap(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if g.staff is None:
                return redirect(url_for("dashboard.sign_in", next=request.full_path.rstrip("?")))
            if district_only and g.staff.school_id is not None:
                return render_template("district/message.html", title=_("Not for your account"),
                                       message=_("Only the district's staff can do this.")), 403
            return view(*args, **kwargs)

        return guarded

    return wrap


def _scope() -> staff.Scope:
    return staff.Scope.of(g.staff)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/dashboard") and not target.startswith("//"):
        return target
    return url_for("dashboard.home")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    if request.method == "GET":
        if g.staff is not None:
            return redirect(url_for("dashboard.home"))
        return render_template("district/sign_in.html", username="", error=None, next=request.args.get("next"))
    username = request.form.get("username", "")
    try:
        account = staff.sign_in(username, request.form.get("password", ""), request.remote_addr or "-")
    except staff.SignInRefused as exc:
        status = 429 if exc.retry_after else 401
        words = (_("Too many tries. Wait a moment, then try again.") if exc.retry_after
                 else _("That username and password do not match."))
        response = Response(render_template("district/sign_in.html", username=username, error=words,
                                            next=request.form.get("next")), status=status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    session.clear()
    session["staff"] = int(account.id)
    session["v"] = int(account.session_version)
    session.permanent = False
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for("dashboard.sign_in"))


@bp.route("/sign-out-everywhere", methods=["POST"])
@signed_in()
def sign_out_everywhere() -> ResponseReturnValue:
    staff.sign_out_everywhere(g.staff)
    session.clear()
    return redirect(url_for("dashboard.sign_in"))


@bp.route("/")
@signed_in()
def home() -> ResponseReturnValue:
    schools = dashboard.overview(_scope())
    ids = [h.id for s in schools for h in s.hubs]
    return render_template("district/home.html", schools=schools, returns=dashboard.returns_of(_scope(), ids),
                           all_schools=_scope().schools(), problem_in_words=problem_in_words)


@bp.route("/hubs.csv")
@signed_in()
def hubs_csv() -> ResponseReturnValue:
    """The schools and hubs page as a CSV file: the same rows, the same numbers."""
    from classroom_server.web.reports import _csv

    header = [_("School"), _("Hub"), _("State"), _("Last contact"), _("How"), _("Events held"),
              _("Waiting on the hub"), _("Refused"), _("Protocol"), _("Problem")]
    states = {"revoked": _("revoked"), "waiting": _("waiting for its code"), "enrolled": _("enrolled")}
    rows = []
    for school in dashboard.overview(_scope()):
        for hub in school.hubs:
            via = {"stick": _("by USB stick"), "network": _("over the network")}.get(hub.via or "", "")
            rows.append([school.name, hub.name, states[hub.state], hub.last_seen or "", via, hub.held,
                         "" if hub.waiting is None else hub.waiting, hub.quarantined, hub.protocol_version or "",
                         problem_in_words(hub.problem) or ""])
    return _csv(f"district-hubs-{service.now()[:10]}.csv", header, rows)


# What the district's English problems mean, in the page's language (the message is shown too).
_PROBLEMS = (
    ("parts from the district's copy",
     lambda: _("The hub's data was restored from an older copy: its answer bundle mends it; its next bundle "
               "brings the rest.")),
    ("wait for the next bundle", lambda: _("Some events were damaged on the stick: they come with the next bundle.")),
    ("another school", lambda: _("Some events name a learner of another school: they are kept aside.")),
    ("revoked", lambda: _("This hub's registration was revoked.")),
)


def problem_in_words(message: str | None) -> str | None:
    if not message:
        return None
    for fragment, words in _PROBLEMS:
        if fragment in message:
            return words()
    return message


@bp.route("/hubs", methods=["POST"])
@signed_in(district_only=True)
def hub_add() -> ResponseReturnValue:
    school = School.get_or_none(School.id == request.form.get("school", type=int))
    name = " ".join(request.form.get("name", "").split())
    if school is None or not name:
        flash(_("Choose the hub's school and give it a name (its classroom, for example)."))
        return redirect(url_for("dashboard.home") + "#add-hub")
    registration, code = service.register_hub(school, name)
    response = Response(render_template("district/hub_code.html", registration=registration, school=school,
                                        code=code, qr=_qr(code)))
    response.headers["Cache-Control"] = "no-store"  # the code is shown once: never from a cache
    return response


def _qr(text: str) -> Markup:
    """A QR code of ``text`` as inline SVG (segno: pure Python, no dependencies)."""
    import segno

    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False, svgclass="qr",
                                        lineclass=None, omitsize=False)
    return Markup(out.getvalue().decode("utf-8"))  # segno's own SVG: no text in it but the code


@bp.route("/hubs/<int:registration_id>/revoke", methods=["GET", "POST"])
@signed_in(district_only=True)
def hub_revoke(registration_id: int) -> ResponseReturnValue:
    registration = dashboard.hub_in(_scope(), registration_id)
    if registration is None:
        abort(404)
    if request.method == "GET":
        return render_template("district/hub_revoke.html", registration=registration)
    if not registration.revoked_at:
        service.revoke(registration)
        flash(_("The hub %(name)s (%(school)s) is revoked: it can no longer sync.", name=registration.name,
                school=registration.school.name))
    return redirect(url_for("dashboard.home"))


@bp.route("/bundles", methods=["GET", "POST"])
@signed_in(district_only=True)
def bundle_upload() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("district/bundles.html", results=None, refused=None)
    files = [f for f in request.files.getlist("bundles") if f.filename]
    if not files:
        return render_template("district/bundles.html", results=None, refused=None,
                               error=_("Choose the bundles from the stick (files named hub-....bundle).")), 400
    with tempfile.TemporaryDirectory(prefix="district-bundles-") as folder:
        paths = []
        for n, upload in enumerate(files):
            path = Path(folder) / f"{n:03d}" / Path(upload.filename or "upload").name  # its own name, as sent
            path.parent.mkdir()
            upload.save(path)
            paths.append(path)
        answers = Path(folder) / "returns"
        answers.mkdir()
        results, refused = bundles.import_bundles(paths, answers)
        kept = {}
        for result in results:
            if result.return_path is not None:
                kept[result.hub.id] = dashboard.keep_return(result.hub, result.return_path.name,
                                                            result.return_path.read_bytes(), service.now())
    return render_template("district/bundles.html", results=results, refused=refused, kept=kept,
                           problem_in_words=problem_in_words)


@bp.route("/returns/<int:file_id>")
@signed_in()
def return_download(file_id: int) -> ResponseReturnValue:
    found = dashboard.return_file(_scope(), file_id)
    if found is None:
        abort(404)
    response = send_file(io.BytesIO(bytes(found.data)), mimetype="application/zip", as_attachment=True,
                         download_name=found.name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(404)
def _not_found(exc: Exception) -> ResponseReturnValue:
    return render_template("district/message.html", title=_("Not found"),
                           message=_("There is no such page, or it is not for your account.")), 404


@bp.errorhandler(413)
def _too_large(exc: Exception) -> ResponseReturnValue:
    return render_template("district/message.html", title=_("Too large"),
                           message=_("Those files are larger than any sync bundle should be.")), 413

