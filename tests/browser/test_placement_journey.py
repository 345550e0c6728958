"""A child new to the Fractions pack finds their starting point on a phone, in a real Chromium
against a real waitress: offered on My path, at most 15 questions with no right or wrong shown
and no hints, each saying how far it has come; then what they already know, and a path that
starts past it. Screenshots for the learner guide."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_learner_journeys import current_item, fill_answer, hub_with_fractions, sign_in  # noqa: F401

FRACTIONS = "org.openclassroom.fractions"


def test_a_child_new_to_a_pack_finds_their_starting_point_on_a_phone(app, school, hub_with_fractions, phone):  # noqa: F811
    base = hub_with_fractions  # the hub's address
    catalogue = app.extensions["catalogue"].get().catalogue
    order = [s for _, s in catalogue.topological_order(FRACTIONS)]
    knows = set(order[:len(order) // 2])
    sign_in(phone, base, school, "ana")
    offer = phone.locator(".placement-offer a")
    assert offer.is_visible() and "find where you start" in offer.inner_text()
    screenshot(phone, "learner-placement-offer")
    offer.click()
    phone.click("button:has-text('Start')")
    asked = 0
    while "/learn/item/" in phone.url:
        asked += 1
        assert asked <= 15
        assert phone.locator("p.why", has_text=f"question {asked} of at most").is_visible()
        assert phone.locator("#hint-link").count() == 0 and phone.locator("form.test-out").count() == 0
        if asked == 2:
            screenshot(phone, "learner-placement-question")
        item = current_item(app, phone)
        fill_answer(phone, item, right=item.skill in knows)
        with phone.expect_navigation():
            phone.click("#item-form button[type=submit]")
        assert phone.locator(".feedback").count() == 0  # no right or wrong during placement
    assert "/learn/placement/" in phone.url
    assert phone.locator("h2", has_text="Now I know where you start").is_visible()
    assert phone.locator("ul.placed li").count() == len(knows)
    screenshot(phone, "learner-placement-result")
    wide = phone.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 360, f"the result is {wide} px wide on a 360 px phone"
    phone.click("text=Start practising")
    item = current_item(app, phone)
    assert item.skill not in knows  # the path starts past what the placement found known
