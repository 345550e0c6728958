"""Learner pages are usable by small fingers and weak eyes: 44 px touch targets, 4.5:1 contrast,
and a label for every control, checked in a real browser at phone size."""

import pytest

from tests.browser.test_learner_journeys import PACK, hub_with_pack, learner_pages, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

TARGETS_JS = """() => {
  const controls = [...document.querySelectorAll('a[href], button, select, input, textarea')]
    .filter(e => e.type !== 'hidden' && e.offsetParent !== null);
  const small = [];
  for (const e of controls) {
    const target = (e.type === 'radio' || e.type === 'checkbox') ? (e.closest('label') || e) : e;
    const r = target.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) small.push(`${target.tagName} "${(target.innerText || target.value || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return small;
}"""

CONTRAST_JS = """() => {
  const parse = c => (c.match(/[0-9.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.offsetParent === null) continue;
    const style = getComputedStyle(el);
    if (parseFloat(style.opacity) === 0) continue;
    const fg = parse(style.color).slice(0, 3), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) low.push(`"${node.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
  }
  return low;
}"""

LABELS_JS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.outerHTML.slice(0, 80))"""


@pytest.mark.parametrize("viewport", [(360, 640), (320, 568)])
def test_learner_pages_are_touchable_readable_and_labelled(app, hub_with_pack, browser, school, viewport):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    sign_in(page, hub_with_pack, school)
    pages = {"sign-in": None, **learner_pages(app, school)}
    for name, path in pages.items():
        if path is None:
            classroom, learner = school.classes["pictures"], school.learners["ben"]
            path = f"/login/learner/{classroom.id}/{learner.id}"
        page.goto(hub_with_pack + path)
        assert page.evaluate(TARGETS_JS) == [], f"{name}: touch targets under 44 px"
        assert page.evaluate(CONTRAST_JS) == [], f"{name}: text under 4.5:1 contrast"
        assert page.evaluate(LABELS_JS) == [], f"{name}: controls without a label"
    context.close()


def test_the_checks_catch_what_they_look_for(browser):
    page = browser.new_page()
    page.set_content('<body style="background:#fff"><p style="color:#bbb">faint text</p>'
                     '<a href="/x" style="font-size:10px">tiny</a><input name="q"></body>')
    assert page.evaluate(CONTRAST_JS) and page.evaluate(TARGETS_JS) and page.evaluate(LABELS_JS)
    page.close()
