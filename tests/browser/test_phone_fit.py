"""#19: on a phone the answer button was below the fold for most items (the header alone was
172 px tall at 320 px wide). Forty items of the bundled packs, at 360 x 640 and 320 x 568 in
Chromium: the learner's header is one short line, "Check my answer" is on the screen as the page
opens (it stays at the bottom while the learner scrolls), and nothing is wider than the screen."""

import random
from pathlib import Path

import pytest

from classroom_server.services import packs
from tests.browser.test_learner_journeys import sign_in

pytestmark = pytest.mark.browser
LIBRARY = Path(__file__).resolve().parents[2] / "content_packs" / "library"


@pytest.mark.slow
@pytest.mark.parametrize("width, height", [(360, 640), (320, 568)])
def test_the_answer_button_is_on_the_screen_for_every_item(browser, live_hub, app, school, data_dir, width, height):
    for name in ("numbers", "fractions"):
        packs.import_pack(data_dir, LIBRARY / name)
    catalogue = app.extensions["catalogue"].get().catalogue
    items = [(p.id, i.id) for p in catalogue.packs for i in p.items]
    random.Random(19).shuffle(items)
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_hub, school)
        off_screen = []
        for pack_id, item_id in items[:40]:
            page.goto(f"{live_hub}/learn/item/{pack_id}/{item_id}")
            header = page.locator("header.top").bounding_box()
            assert header["height"] <= 64, f"the header is {header['height']} px tall"
            button = page.get_by_role("button", name="Check my answer").bounding_box()
            if button is None or button["y"] + button["height"] > height:
                off_screen.append(item_id)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), item_id
        assert off_screen == []
    finally:
        context.close()
