"""Admin pages for content packs: list, upload a .zip, import from a USB stick, remove."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from classroom_server.errors import Invalid, NotFound
from classroom_server.i18n import gettext as _
from classroom_server.i18n import ngettext
from classroom_server.services import pack_storage, packs
from classroom_server.web.access import requires

bp = Blueprint("admin_packs", __name__, url_prefix="/admin/packs")
UPLOAD_LIMIT = 2 * 1024**3
USB_ROOTS = (Path("/media"), Path("/mnt"))


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
    return render_template(
        "admin/packs.html", packs=packs.installed(), usb=usb_candidates(), problems=problems or [],
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


@bp.route("/upload", methods=["POST"])
@requires("admin")
def upload():
    request.max_content_length = UPLOAD_LIMIT
    sent = request.files.get("pack")
    if sent is None or not sent.filename:
        raise Invalid("Choose a pack file (.zip) to upload.", field="pack")
    data_dir = current_app.config["DATA_DIR"]
    temp = pack_storage.packs_dir(data_dir) / f".upload-{secrets.token_hex(6)}.zip"
    try:
        sent.save(temp)
        outcome = packs.import_pack(data_dir, temp, g.person, force=request.form.get("force") == "1")
    except packs.ImportFailed as exc:
        flash(_("The pack was not imported, and nothing was changed: %(why)s", why=str(exc)))
        return _page(400, [p.format() for p in exc.report.problems[:100]])
    finally:
        temp.unlink(missing_ok=True)
    _report_result(outcome)
    return redirect(url_for("admin_packs.index"))


@bp.route("/usb", methods=["POST"])
@requires("admin")
def from_usb():
    chosen = request.form.get("path", "")
    allowed = {str(p) for p in usb_candidates()}
    if chosen not in allowed:
        raise Invalid("Choose one of the packs found on the USB stick.", field="path")
    try:
        outcome = packs.import_pack(current_app.config["DATA_DIR"], Path(chosen), g.person)
    except packs.ImportFailed as exc:
        flash(_("The pack was not imported, and nothing was changed: %(why)s", why=str(exc)))
        return _page(400, [p.format() for p in exc.report.problems[:100]])
    _report_result(outcome)
    return redirect(url_for("admin_packs.index"))


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
