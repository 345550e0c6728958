"""A new teacher's whole journey through the hub in Chromium (#18), one page after another as the
teacher guide tells it: import the school system's roster, give the class its course, print login
cards, watch a learner (signed in with her card, in another browser) answer on the live view
without reloading it, read the grid, make tomorrow's plan and assign a group its practice (a
learner in the group sees it first, one outside does not), take it back and undo that exactly,
and read the reports, whose CSV files say what the page says, number for number. Then another
teacher tries every page, CSV file and poll of that class, and finds nothing there.

Each piece has its own tests; this one checks that they join up. The guide's pictures of these
steps are taken here (test-artifacts/teacher-journey-*.png)."""

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from classroom_server import clock
from classroom_server.db import db
from classroom_server.models import Event, Person
from classroom_server.services import packs, practice, teaching
from classroom_server.web import live
from classroom_server.web.practice import decode_answer
from tests.browser.conftest import screenshot
from tests.browser.test_learner_journeys import current_item, fill_answer
from tests.conftest import TEACHER_PASSWORD, study

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "content_packs" / "library"
ROSTER = ROOT / "tests" / "interop" / "oneroster" / "clean_1_1"
PACK = "org.openclassroom.fractions"
PATIENCE_MS = 20_000  # a few polls of the live view, on a busy machine
IMPORTED = ["Amani Kamau", "Binta Diallo", "Carlos Mendes"]  # the export's active students
LEARNERS = ["Amani Kamau", "Ana", "Ben", "Binta Diallo", "Carlos Mendes"]  # with Sunflowers' own two


@pytest.fixture
def hub(app, school, data_dir, live_hub, monkeypatch):
    """The real Fractions pack installed (not yet studied by anyone); the live view polls every second."""
    packs.import_pack(data_dir, LIBRARY / "fractions")
    monkeypatch.setattr(live, "POLL_SECONDS", 1)
    return live_hub


def roster_zip(folder: Path) -> Path:
    """The OneRoster export as a school system hands it over: one zip of CSV files."""
    target = folder / "lakeside-oneroster.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(ROSTER.iterdir()):
            archive.write(path, path.name)
    return target


def sign_in_staff(page, hub: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub + "/login/staff")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/teach/")


def sign_in_with_card(page, card: dict) -> None:  # type: ignore[no-untyped-def]
    """As a learner does with their card: the class's address (the QR code), their name, their pictures."""
    from playwright.sync_api import expect

    page.goto(card["url"])
    page.get_by_role("link", name=card["name"]).click()
    for n, picture in enumerate(card["pictures"], start=1):
        page.locator(f'button[data-picture="{picture}"]').click()
        if n < len(card["pictures"]):  # the next tap on the page that counts this one
            expect(page.locator(".dot.on")).to_have_count(n)
    page.wait_for_url("**/learn/")


def answer_right(app, learner, skill: str, times: int) -> None:  # type: ignore[no-untyped-def]
    """Right answers through the service the answer page uses (a learner working on their own)."""
    catalogue = app.extensions["catalogue"].get().catalogue
    items = [i for i in catalogue.pack(PACK).items if i.skill == skill and i.type == "single_choice"]
    with db.connection_context():
        for n in range(times):
            item = items[n % len(items)]
            choice = next(c.id for c in item.choices if c.correct)
            practice.record_attempt(app.extensions["engine"], learner, PACK, item.id,
                                    decode_answer(item, {"answer": choice}), event_id=None)


def table_rows(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """A table's body as the page shows it, cell by cell (row headers included)."""
    return table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


def download_csv(page, link_name: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark, for spreadsheets"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def path_of(page) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A learner's path as they see it now: each step's reason and what it is."""
    page.goto(page.url.split("/learn/")[0] + "/learn/")
    return [tuple(step) for step in page.locator(".path a.step").evaluate_all(
        "steps => steps.map(s => [s.querySelector('.reason').innerText, s.querySelector('.what').innerText])")]


@pytest.mark.slow
def test_a_new_teachers_day_from_the_roster_to_the_reports(app, school, hub, browser, tmp_path):
    from playwright.sync_api import expect  # the browser fixture skips when Playwright is missing

    sunflowers = school.classes["pictures"]
    class_url = f"{hub}/teach/classes/{sunflowers.id}"
    laptop = browser.new_context(viewport={"width": 1280, "height": 800})
    tablets = []
    try:
        page = laptop.new_page()
        sign_in_staff(page, hub, "tess")
        page.get_by_role("link", name="Sunflowers").click()
        page.wait_for_url(class_url)

        # 1. The roster from the school system: every student of the export joins the class.
        page.get_by_role("link", name="Import learners from a school system (OneRoster)").click()
        page.get_by_label("Roster file (.zip or .csv)").set_input_files(roster_zip(tmp_path))
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_role("heading", name="Roster imported")).to_be_visible()
        counts = page.locator("dl.counts dd")
        expect(counts).to_have_text(["3", "0", "0", "0"])  # imported, updated, archived, rejected rows
        expect(page.locator(".login-card h2")).to_contain_text(IMPORTED)
        screenshot(page, "teacher-journey-01-roster-imported")
        page.get_by_role("link", name="Back").click()
        page.wait_for_url(class_url)
        expect(page.locator("ul.roster li a")).to_have_text(LEARNERS)

        # 2. The class's course.
        expect(page.get_by_text("This class studies no pack yet")).to_be_visible()
        page.get_by_role("link", name="Choose what the class studies").click()
        page.locator("fieldset.course", has_text="Fractions").get_by_role("checkbox").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved. The class studies these packs.")).to_be_visible()
        page.get_by_role("link", name="Sunflowers").click()
        expect(page.locator(".studies")).to_contain_text("Fractions")

        # 3. Login cards: nobody has signed in yet, so everyone is ticked.
        page.get_by_role("link", name="Login cards").click()
        expect(page.locator("input[name=learners]:checked")).to_have_count(len(LEARNERS))
        page.get_by_role("button", name="Make the cards").click()
        expect(page.locator(".login-card h2")).to_contain_text(LEARNERS)
        expect(page.get_by_role("button", name="Print")).to_be_visible()
        printed = {card["name"]: card for card in page.locator(".login-card").evaluate_all("""cards => cards.map(c => ({
            name: c.querySelector('h2').lastChild.textContent.trim(),
            pictures: c.querySelector('.secret-pictures').dataset.secret.split(','),
            url: c.querySelector('.qr-url').innerText.trim()}))""")}
        assert list(printed) == LEARNERS
        assert all(len(c["pictures"]) == 3 for c in printed.values())
        assert {c["url"] for c in printed.values()} == {f"{hub}/login/learner/{sunflowers.id}"}  # the QR code's
        screenshot(page, "teacher-journey-02-login-cards")

        # 4. The live view, open while Amani signs in with her card on a tablet and answers.
        page.goto(class_url)
        page.get_by_role("link", name="Live class view").click()
        page.wait_for_url(f"{class_url}/live")
        page.evaluate("window.sameDocument = true")  # gone if the page reloads
        with db.connection_context():
            amani = Person.get(Person.display_name == "Amani Kamau")
            carlos = Person.get(Person.display_name == "Carlos Mendes")
        amani_card = page.locator(f'.live-all [data-learner="{amani.id}"]')
        expect(amani_card).to_contain_text("Nothing yet")
        tablet = browser.new_context(viewport={"width": 800, "height": 1280})
        tablets.append(tablet)
        learner = tablet.new_page()
        sign_in_with_card(learner, printed["Amani Kamau"])
        expect(amani_card).to_contain_text("Signed in, just now", timeout=PATIENCE_MS)

        with learner.expect_navigation():
            learner.locator(".step.first").click()
        if "/learn/lesson/" in learner.url:
            with learner.expect_navigation():
                learner.get_by_role("button", name="Done").click()
        for answered in range(1, 31):  # right answers until Equal parts is hers
            assert "/learn/item/" in learner.url, learner.url
            fill_answer(learner, current_item(app, learner))
            learner.get_by_role("button", name="Check my answer").click()
            learner.wait_for_selector(".verdict")
            if answered == 1:
                expect(amani_card).to_contain_text("Answering Equal parts, just now", timeout=PATIENCE_MS)
            if learner.locator(".celebrate").count():
                break
            with learner.expect_navigation():
                learner.get_by_role("link", name="Next").click()
            while "/learn/lesson/" in learner.url or "/learn/example/" in learner.url:
                with learner.expect_navigation():
                    learner.locator("button.go").click()
        else:
            pytest.fail("30 right answers and still no celebration")
        ready = page.locator(".live-ready")
        expect(ready).to_contain_text("Amani Kamau", timeout=PATIENCE_MS)
        expect(ready).to_contain_text("Now knows Equal parts")
        assert page.evaluate("window.sameDocument") is True, "the live view changed without reloading"
        screenshot(page, "teacher-journey-03-live")

        # Ben got there too, on the class's other tablet.
        answer_right(app, school.learners["ben"], "equal-parts", 4)
        expect(ready).to_contain_text("Ben", timeout=PATIENCE_MS)

        # 5. The grid: Amani and Ben know the first skill, nobody has begun the others.
        page.goto(class_url)
        page.get_by_role("link", name="See progress and who needs help").click()
        grid = page.locator("table.grid")
        expect(grid.locator("tbody tr")).to_have_count(5)
        rows = {row[0]: row[1:] for row in table_rows(grid)}
        assert rows["Amani Kamau"][0] == rows["Ben"][0] == "✓"
        assert {cell for cells in rows.values() for cell in cells[1:]} == {"·"}
        assert {rows[name][0] for name in ("Ana", "Binta Diallo", "Carlos Mendes")} == {"·"}
        grid_skills = grid.locator("thead .skill-name").all_inner_texts()
        grid_states = grid.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.querySelectorAll('td')].map(c => c.classList[0].slice(2)))")
        screenshot(page, "teacher-journey-04-grid")

        # 6. Tomorrow's plan: the hub's groups, one learner moved by the teacher, one group assigned.
        page.goto(class_url)
        page.get_by_role("link", name="Tomorrow's plan").click()
        groups = page.locator("section.plan-group h2")
        expect(groups).to_have_text(["Group 1: Equal parts (3 learners)", "Group 2: Unit fractions (2 learners)"])
        page.get_by_label("Move Carlos Mendes to").select_option(label="Unit fractions")
        page.get_by_role("button", name="Update the plan with my moves").click()
        expect(groups).to_have_text(["Group 1: Unit fractions (3 learners)", "Group 2: Equal parts (2 learners)"])
        expect(page.locator("section.plan-group").first.locator("tbody th")).to_have_text(
            ["Amani Kamau", "Ben", "Carlos Mendes"])
        tomorrow = clock.now().astimezone().date() + dt.timedelta(days=1)
        page.get_by_label("Practice due (optional)").fill(tomorrow.isoformat())
        screenshot(page, "teacher-journey-05-plan")
        page.get_by_role("button", name="Assign Unit fractions to this group").click()
        expect(page.get_by_text("Unit fractions is assigned to Amani Kamau, Ben, Carlos Mendes.")).to_be_visible()
        with db.connection_context():
            [given] = teaching.assignments_of(sunflowers)
        assert given.skills == (f"{PACK}:unit-fractions",) and given.due == tomorrow
        assert set(given.learners or ()) == {amani.uid, school.learners["ben"].uid, carlos.uid}

        # 7. Amani, in the group, sees it first; Binta, outside it, signs in with her card and does not.
        assigned_path = path_of(learner)
        assert assigned_path[0] == ("Your teacher asked", "Unit fractions")
        outside = browser.new_context(viewport={"width": 800, "height": 1280})
        tablets.append(outside)
        binta = outside.new_page()
        sign_in_with_card(binta, printed["Binta Diallo"])
        assert all(reason != "Your teacher asked" for reason, _what in path_of(binta))
        screenshot(learner, "teacher-journey-06-learner-sees-the-assignment")

        # 8. Taken back, then Undo: the earlier state exactly (the assignment's id, skills, learners,
        # day; the page's words; Amani's path).
        page.goto(class_url)
        page.get_by_role("link", name="Assign skills").click()
        assigned = page.locator("ul.assignments li")
        expect(assigned).to_have_count(1)
        before = assigned.inner_text()
        assert "Unit fractions" in before and f"due {tomorrow.isoformat()}" in before
        assert "Amani Kamau, Ben, Carlos Mendes" in before, "the class list's order, as everywhere"
        assigned.get_by_role("button", name="Take back").click()
        expect(page.get_by_text("The assignment is taken back.")).to_be_visible()
        expect(assigned).to_have_text(["Nothing assigned: each learner follows their own path."])
        assert all(reason != "Your teacher asked" for reason, _what in path_of(learner))
        page.get_by_role("button", name="Undo").click()
        expect(page.get_by_text("The assignment is back.")).to_be_visible()
        expect(assigned).to_have_count(1)
        assert assigned.inner_text() == before
        with db.connection_context():
            assert teaching.assignments_of(sunflowers) == [given]
        assert path_of(learner) == assigned_path

        # 9. Who decided what: every step above, by Tess, newest first.
        page.goto(class_url)
        page.get_by_role("link", name="Who decided what").click()
        decisions = page.locator("ol.history li")
        expect(decisions).to_have_count(3 + 5 + 1 + 5)  # the assignment thrice, cards, course, class list
        assert {who.split(" · ")[0] for who in decisions.locator(".who").all_inner_texts()} == {"Tess Teacher"}
        words = decisions.locator(".what").all_inner_texts()
        assert words[3:8] == [f"{name} was given a new picture password or PIN." for name in reversed(LEARNERS)]
        assert words[8] == "The class studies: Fractions, grades 3 to 5"
        assert sorted(words[9:]) == [f"{name} was added to the class." for name in LEARNERS]
        # The group's assignment, its taking back and its undo, each said as what it left.
        assert words[2] == words[0] and words[0].startswith("Assignments from then on: to ")
        assert "Unit fractions" in words[0] and "(due " in words[0]
        assert words[1] == "No assignment from then on: the class's assignments were cleared."
        screenshot(page, "teacher-journey-07-history")

        # 10. Reports: the page and its CSV files agree number for number, and with the grid.
        page.goto(class_url)
        page.get_by_role("link", name="Reports").click()
        page.wait_for_url(f"{class_url}/reports")
        growth = page.locator("#growth-table")
        growth_head = growth.locator("thead th").all_inner_texts()
        growth_page = table_rows(growth)
        assert [row[0] for row in growth_page] == LEARNERS
        growth_csv = download_csv(page, "Growth table (CSV)")
        assert growth_csv[0][0] == growth_head[0] and growth_csv[0][3:] == growth_head[1:6]
        assert len(growth_csv) == 1 + len(growth_page)
        for in_csv, on_page in zip(growth_csv[1:], growth_page, strict=True):
            assert [in_csv[0]] + in_csv[3:] == on_page[:6], (in_csv, on_page)
        first_day, last_day = growth_csv[1][1:3]
        expect(page.get_by_text(f"From {first_day} to {last_day}")).to_be_visible()
        assert any(float(row[6]) > 0 for row in growth_csv[1:]), "numbers worth comparing: the expected growth"

        skills = page.locator("table.skills-table")
        skills_head = [" ".join(h.split()) for h in skills.locator("thead th").all_inner_texts()]
        skills_page = table_rows(skills)
        skills_csv = download_csv(page, "Skills table (CSV)")
        assert len(skills_csv) == 1 + len(skills_page) == 1 + 13
        assert all(shown.endswith(word) for shown, word in zip(skills_head[1:], skills_csv[0][2:], strict=True))
        pack_title = page.locator("section h3").first.inner_text()
        for in_csv, on_page in zip(skills_csv[1:], skills_page, strict=True):
            assert in_csv == [pack_title] + on_page, (in_csv, on_page)
        by_skill = {row[0]: dict(zip(("mastered", "proficient", "learning", "needs_review", "not_started"),
                                     map(int, row[1:]), strict=True)) for row in skills_page}
        assert by_skill["Equal parts"] == {"mastered": 0, "proficient": 2, "learning": 0, "needs_review": 0,
                                           "not_started": 3}
        for n, title in enumerate(grid_skills):  # the grid's cells, counted, are the report's numbers
            counted = {state: [row[n] for row in grid_states].count(state) for state in by_skill[title]}
            assert counted == by_skill[title], title
        screenshot(page, "teacher-journey-08-reports")

        # 11. A lesson to read, for one learner, due today: first on her path, with why, until she
        # has opened it; then it steps aside.
        page.goto(f"{class_url}/assignment")
        page.get_by_label("Read the lesson").check()
        page.locator(f'input[name="given_skills"][value="{PACK}:equal-parts"]').check()
        page.locator('input[name="who"][value="some"]').check()
        page.locator("label.indent", has_text="Amani Kamau").locator("input").check()
        page.get_by_label("Due (optional)").fill(clock.now().astimezone().date().isoformat())
        page.get_by_role("button", name="Assign", exact=True).click()
        expect(page.get_by_text("Those learners see the lesson first until they have opened it.")).to_be_visible()
        expect(page.locator("ul.assignments li").first).to_contain_text("Read the lesson: Equal parts")
        read = ("Your teacher asked you to read this lesson", "Equal parts")
        assert path_of(learner)[0] == read
        assert read not in path_of(binta)
        learner.locator(".path a.step").first.click()
        expect(learner.locator("p.crumb")).to_have_text("Equal parts")
        screenshot(learner, "teacher-journey-09-learner-reads-the-assigned-lesson")
        learner.get_by_role("button", name="Done").click()
        learner.wait_for_url(lambda url: "/learn/lesson/" not in url)  # sent, then on to the next activity
        assert read not in path_of(learner)
    finally:
        for context in tablets:
            context.close()
        laptop.close()


def test_a_teacher_never_sees_another_teachers_class(app, school, hub, browser):
    """Tom, signed in, tries every page, CSV file and poll of Tess's class, and every form: each is
    the same 404 as a class that does not exist (so an id tells him nothing) and nothing changes.
    Tess gets each of the same addresses, so none of them is a 404 by mistake."""
    from playwright.sync_api import expect

    study(school)
    sunflowers, ana = school.classes["pictures"], school.learners["ana"]
    addresses = ["", "/roster", "/courses", "/cards", "/live", "/progress", "/plan", "/assignment", "/history",
                 "/activities", f"/learners/{ana.id}", f"/learners/{ana.id}/history",
                 f"/skills/{PACK}/equal-parts", "/reports", f"/reports/learners/{ana.id}",
                 f"/reports/learners/{ana.id}/family"]
    csv_files = ["/reports/skills.csv", "/reports/growth.csv", f"/reports/learners/{ana.id}/growth.csv"]
    forms = {"/plan": {"assign": f"{PACK}:equal-parts"}, "/cards": {"learners": str(ana.id)},
             "/courses": {"pack": PACK}, "/assignment": {"skills": f"{PACK}:equal-parts"},
             f"/learners/{ana.id}/override": {"action": "pause"}, "/learners": {"display_name": "Intruder"},
             "/roster/names/add": {"names_text": "Intruder"}}
    tess_context, tom_context = browser.new_context(), browser.new_context()
    try:
        tess = tess_context.new_page()
        sign_in_staff(tess, hub, "tess")
        for address in addresses + csv_files + ["/live/now"]:
            assert tess.request.get(f"{hub}/teach/classes/{sunflowers.id}{address}").status == 200, address

        tom = tom_context.new_page()
        sign_in_staff(tom, hub, "tom")
        expect(tom.locator("main")).to_contain_text("Baobabs")
        expect(tom.locator("main")).not_to_contain_text("Sunflowers")

        def refused(address: str) -> str:
            """Tom's page for Tess's class at this address, checked against a class that does not exist."""
            shown = []
            for class_id in (sunflowers.id, 99999):
                response = tom.goto(f"{hub}/teach/classes/{class_id}{address}")
                assert response is not None and response.status == 404, (address, class_id)
                shown.append(tom.locator("main").inner_text())
            assert shown[0] == shown[1], address
            return shown[0]

        for address in addresses + csv_files:  # the CSV files as the browser opens a link: no download
            assert "There is no such class." in refused(address), address
        screenshot(tom, "teacher-journey-09-another-teachers-class")

        # The live view's poll, as a JSON client asks for it: the error's one shape, the same for both.
        answers = [tom.request.get(f"{hub}/teach/classes/{class_id}/live/now", headers={"Accept": "application/json"})
                   for class_id in (sunflowers.id, 99999)]
        assert [a.status for a in answers] == [404, 404]
        assert answers[0].json() == answers[1].json() == {
            "error": {"code": "not_found", "message": "There is no such class.", "field": None}}
        polled = tom.request.get(f"{hub}/teach/classes/{sunflowers.id}/live/now")  # as static/live.js asks
        assert polled.status == 404 and "There is no such class." in polled.text() and "Ana" not in polled.text()

        # Every form, with Tom's own valid CSRF token: refused, and nothing recorded.
        tom.goto(f"{hub}/teach/classes/{school.classes['pins'].id}/cards")
        token = tom.locator("input[name=csrf_token]").first.get_attribute("value")
        with db.connection_context():
            before = Event.select().count()
        for address, form in forms.items():
            response = tom.request.post(f"{hub}/teach/classes/{sunflowers.id}{address}",
                                        form={"csrf_token": token or "", **form})
            assert response.status == 404, (address, response.status)
        with db.connection_context():
            assert Event.select().count() == before
    finally:
        tess_context.close()
        tom_context.close()
