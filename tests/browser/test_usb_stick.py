"""The hub admin's USB stick in a real Chromium: a stick mounted under the hub's mount roots is
offered, a bundle is written with its progress said in words, the district's answer is read back
from the stick, and the page fits a 320 px screen with a stick's long mount point on it."""

from __future__ import annotations

from classroom_server.db import db
from classroom_server.services import sync as hub_sync
from classroom_server.services import usb
from sync.district import bundles as district_bundles
from tests.browser.conftest import screenshot
from tests.conftest import ADMIN_PASSWORD
from tests.sync.conftest import district, district_url, enrolled, postgres_url  # noqa: F401 - fixtures here


def _admin(browser, base: str, width: int):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(base + "/login/staff")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.goto(base + "/admin/sync/")
    return page


def test_an_admin_carries_a_stick_there_and_back(browser, app, school, live_hub, district, tmp_path,  # noqa: F811
                                                 monkeypatch):
    enrolled(app, district)
    root = tmp_path / "media"
    stick = root / "a_stick_with_a_long_name_from_the_automounter_1234567890"
    stick.mkdir(parents=True)
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 {stick} vfat rw,nosuid,nodev 0 0\n")
    monkeypatch.setattr(usb, "MOUNTS", mounts)
    monkeypatch.setitem(app.config["SETTINGS"], "usb_mount_roots", str(root))

    page = _admin(browser, live_hub, 1280)
    try:
        page.click("text=Write a bundle for the district")
        page.wait_for_selector("text=Bundle written to the stick")
        [written] = stick.glob("hub-*.bundle")
        assert page.locator(".sync-progress .note", has_text=written.name).is_visible()
        with district.extensions["district_database"].connection_context():
            [result], _ = district_bundles.import_bundles([written])
        page.goto(live_hub + "/admin/sync/")
        page.click("text=Read the district's answer (1 file)")
        page.wait_for_selector("text=The district's answer was read")
        with db.connection_context():
            assert hub_sync.status().waiting == 0
        screenshot(page, "admin-usb-stick")
    finally:
        page.context.close()

    phone = _admin(browser, live_hub, 320)
    try:
        assert phone.locator("#usb h3", has_text=stick.name[:20]).is_visible()
        wide = phone.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 320, f"the page is {wide} px wide on a 320 px screen"
    finally:
        phone.context.close()
