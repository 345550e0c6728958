"""Admin pages for content packs: list, upload a .zip, import from a USB stick, remove.

A newer version of an installed pack is installed only once the admin confirms it: the page
says what it replaces, and the uploaded file waits (``DATA/packs/.upload-*``, a day at most)
for the answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from classroom_server.errors import Invalid, NotFound
from classroom_server.i18n import gettext as _
from classroom_server.i18n import ngettext
from classroom_server.services import pack_storage, packs, sessions
from classroom_server.web.access import requires

bp = Blueprint("admin_packs", __name__, url_prefix="/admin/packs")
# A pack may hold 2 GiB (content_packs.Limits.max_total_bytes) and its .zip is no larger; every
# other request keeps the app's MAX_CONTENT_LENGTH.
UPLOAD_LIMIT = 2 * 1024**3
UPLOAD_ENDPOINT = "admin_packs.upload"
USB_ROOTS = (Path("/media"), Path("/mnt"))


def allow_pack_upload() -> None:
    """Let the pack upload be as large as a pack. Registered (app.py) before CSRFProtect, whose
    check reads the form and would refuse it at MAX_CONTENT_LENGTH first. Only an admin's live
    session gets the larger limit (one query, on this route alone); the view itself then
    requires an admin too."""
    if request.endpoint != UPLOAD_ENDPOINT:
        return
    person = sessions.person_for(session.get("sid"))
    if person is not None and person.role == "admin":
        request.max_content_length = UPLOAD_LIMIT


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> Response:
    from classroom_server.web.errors import error_response, http_error

    if request.endpoint != UPLOAD_ENDPOINT:
        return http_error(exc)
    size = _("%(size)s MB", size=(request.max_content_length or UPLOAD_LIMIT) // 1024**2)
    return error_response(413, "request_entity_too_large",
                          _("That pack is larger than the limit of %(size)s for an upload, so nothing was changed.",
                            size=size))


def usb_candidates() -> list[Path]:
    """Packs on mounted removable media, found without following links or descending far."""
    found: list[Path] = []
    for root in USB_ROOTS:
        if not root.is_dir():
            continue
        for mount in sorted(root.glob("*")) + sorted(root.glob("*/*")):
            if mount.is_dir() and not mount.is_symlink():
                try:
                    found.extend(p for p in packs.find_packs(mount) if p not in found)
                except (packs.ImportFailed, OSError):
                    continue
    return found[:50]


def _page(status: int = 200, problems=None):
    damaged = current_app.extensions["catalogue"].get().damaged
    return render_template(
        "admin/packs.html", packs=packs.installed(), usb=usb_candidates(), problems=problems or [],
        damaged=damaged,
    ), status


@bp.route("/")
@requires("admin")
def index():
    return _page()


def _report_result(outcome: packs.ImportResult) -> None:
    if outcome.already_installed:
        flash(_("%(pack)s %(version)s is already installed.", pack=outcome.pack_id, version=outcome.version))
    else:
        flash(_("Installed %(pack)s %(version)s.", pack=outcome.pack_id, version=outcome.version) + " "
              + ngettext("%(num)d skill", "%(num)d skills", outcome.skills) + ", "
              + ngettext("%(num)d item", "%(num)d items", outcome.items) + ".")


def _import(source: Path, *, force: bool = False, upgrade: bool = False,
            confirm: dict[str, Any] | None = None) -> tuple[ResponseReturnValue, bool]:
    """Import ``source``; returns the response, and whether the file must be kept because the
    admin is asked to confirm an upgrade (``confirm``: where the confirmation form posts)."""
    try:
        outcome = packs.import_pack(current_app.config["DATA_DIR"], source, g.person, force=force, upgrade=upgrade)
    except packs.UpgradeNeedsConfirmation as exc:
        page = render_template("admin/packs_upgrade.html", upgrade=exc, name=source.name, confirm=confirm or {})
        return page, True
    except packs.ImportFailed as exc:
        flash(_("The pack was not imported, and nothing was changed: %(why)s", why=str(exc)))
        return _page(400, [p.format() for p in exc.report.problems[:100]]), False
    _report_result(outcome)
    return redirect(url_for("admin_packs.index")), False


@bp.route("/upload", methods=["POST"])
@requires("admin")
def upload():
    sent = request.files.get("pack")
    if sent is None or not sent.filename:
        raise Invalid("Choose a pack file (.zip) to upload.", field="pack")
    token, saved = pack_storage.new_upload(current_app.config["DATA_DIR"], sent.filename)
    keep = False
    try:
        sent.save(saved)
        force = request.form.get("force") == "1"
        confirm = {"action": url_for("admin_packs.upgrade"), "token": token, "force": "1" if force else ""}
        response, keep = _import(saved, force=force, confirm=confirm)
    finally:
        if not keep:
            pack_storage.discard_upload(saved)
    return response


@bp.route("/upgrade", methods=["POST"])
@requires("admin")
def upgrade():
    """The admin's answer to "This replaces ... with ...": install the kept upload, or drop it."""
    saved = pack_storage.find_upload(current_app.config["DATA_DIR"], request.form.get("token", ""))
    if saved is None:
        raise NotFound("That upload is no longer here. Upload the pack again.", field="token")
    try:
        if request.form.get("answer") != "replace":
            flash(_("Nothing was changed: %(name)s was not imported.", name=saved.name))
            return redirect(url_for("admin_packs.index"))
        response, _keep = _import(saved, force=request.form.get("force") == "1", upgrade=True)
        return response
    finally:
        pack_storage.discard_upload(saved)


@bp.route("/usb", methods=["POST"])
@requires("admin")
def from_usb():
    chosen = request.form.get("path", "")
    allowed = {str(p) for p in usb_candidates()}
    if chosen not in allowed:
        raise Invalid("Choose one of the packs found on the USB stick.", field="path")
    if request.form.get("answer") == "keep":
        flash(_("Nothing was changed: %(name)s was not imported.", name=Path(chosen).name))
        return redirect(url_for("admin_packs.index"))
    confirm = {"action": url_for("admin_packs.from_usb"), "path": chosen}
    response, _keep = _import(Path(chosen), upgrade=request.form.get("answer") == "replace", confirm=confirm)
    return response


@bp.route("/<pack_id>/remove", methods=["GET", "POST"])
@requires("admin")
def remove(pack_id: str) -> ResponseReturnValue:
    row = next((p for p in packs.installed() if p.pack_id == pack_id), None)
    if row is None:
        raise NotFound("No such pack is installed.", field="pack_id")
    if request.method == "GET":
        return render_template("admin/pack_remove.html", pack=row)
    packs.remove_pack(current_app.config["DATA_DIR"], pack_id, g.person)
    flash(_("Removed %(pack)s. Learners' history is kept; import the pack again to bring it back.", pack=pack_id))
    return redirect(url_for("admin_packs.index"))
