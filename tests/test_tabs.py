"""Defect 6: tabs keep the person where they were.

After an action the page reruns with a flash message above and changed rows below; plain
`st.tabs` then opened the first tab again (Venues → Sections and seats jumped back to
Details). Every page's tabs now come from `dashboard.widgets.kept_tabs`: the open tab is a
widget value, so the rerun opens it again, and (for a page's own tabs) it is in the URL,
so a link opens it too.
"""

from __future__ import annotations

import ast
import uuid

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from core.config import PROJECT_ROOT
from tests.apptest import make_person, messages, open_page


def _open_tab(at: AppTest, key: str) -> int:
    """The index of the tab the browser is told to show for the tabs keyed `key`."""
    return at.get_by_key(key).proto.tab_container.default_tab_index


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _text_input(at: AppTest, key_prefix: str):
    return next(t for t in at.text_input if str(t.key).startswith(key_prefix))


def test_no_page_draws_tabs_that_forget_the_open_one() -> None:
    """Every tab set goes through kept_tabs (only it may call st.tabs)."""
    offenders = []
    for path in sorted([*PROJECT_ROOT.glob("pages/*.py"), *PROJECT_ROOT.glob("dashboard/*.py")]):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "tabs"
                and path.name != "widgets.py"
            ):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert not offenders, f"st.tabs outside dashboard.widgets.kept_tabs: {offenders}"


def test_adding_a_section_keeps_the_sections_tab_open(owner: Engine) -> None:
    admin = make_person(owner, ["admin"])
    at = open_page("venues.py", admin)
    assert not at.exception
    at.session_state["venue_tab"] = "Sections and seats"
    at.run()
    assert _open_tab(at, "venue_tab") == 1
    name = f"Balcony {uuid.uuid4().hex[:6]}"
    _text_input(at, "ns_").input(name)
    _button(at, "Add section").click().run()
    assert not at.exception
    assert f"Added the section {name}" in messages(at)
    assert _open_tab(at, "venue_tab") == 1, "back on Details after the action"
    assert at.session_state["venue_tab"] == "Sections and seats"


def test_adding_a_ticket_type_keeps_the_add_tab_open(owner: Engine) -> None:
    organizer = make_person(owner, ["admin"])
    at = open_page("ticket_types.py", organizer)
    assert not at.exception
    at.session_state["tab"] = "Add a ticket type"
    at.run()
    name = f"Late entry {uuid.uuid4().hex[:6]}"
    _text_input(at, "tt_new_").input(name)
    _button(at, "Add ticket type").click().run()
    assert not at.exception
    assert f"{name} added." in messages(at)
    assert _open_tab(at, "tab") == 1


def test_an_action_on_an_event_tab_keeps_both_tab_sets(owner: Engine) -> None:
    admin = make_person(owner, ["admin"])
    at = open_page("events.py", admin)
    assert not at.exception
    at.session_state["event_tab"] = "Duplicate"
    at.run()
    assert _open_tab(at, "event_tab") == 5
    _button(at, "Duplicate").click().run()
    assert not at.exception
    assert "Duplicated as the draft" in messages(at)
    assert (_open_tab(at, "tab"), _open_tab(at, "event_tab")) == (0, 5)


def test_a_link_opens_the_tab_it_names(owner: Engine) -> None:
    admin = make_person(owner, ["admin"])
    at = open_page("venues.py", admin, query_params={"venue_tab": "Sections and seats"})
    assert not at.exception
    assert _open_tab(at, "venue_tab") == 1


def test_a_chart_keeps_its_table_open(owner: Engine) -> None:
    marketer = make_person(owner, ["marketing"])
    at = open_page("sponsor_roi.py", marketer)
    assert not at.exception
    at.session_state["sponsor_roi_ranking_view"] = "Table"
    at.run()
    at.button(key="sponsor_roi_refresh").click().run()
    assert not at.exception
    assert "Rollups refreshed at" in messages(at)
    assert _open_tab(at, "sponsor_roi_ranking_view") == 1
