"""Defect 7: out-of-range numbers are refused with the rule, and old messages go.

A number field with bounds turned red in the browser and kept its last good value, so
the button did nothing and "Name is required." from the try before stayed beside a name
filled in since. Number fields now come from dashboard.forms without bounds: every
number reaches the core, which says what and why; the next submit draws the page anew.
"""

from __future__ import annotations

import ast
import inspect
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.config import PROJECT_ROOT
from core.errors import ValidationError
from core.marketing.campaigns import CampaignDraft, create_campaign
from dashboard import forms
from tests.apptest import make_person, messages, open_page


def test_no_form_draws_a_number_field_that_refuses_in_silence() -> None:
    offenders = []
    for path in sorted(PROJECT_ROOT.glob("pages/*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            if name == "number_input":
                offenders.append(f"{path.name}:{node.lineno} calls .number_input directly")
            bounds = {k.arg for k in node.keywords} & {"min_value", "max_value"}
            if isinstance(node.func, ast.Name) and node.func.id == "number_input" and bounds:
                offenders.append(f"{path.name}:{node.lineno} passes {sorted(bounds)}")
    assert not offenders, offenders
    assert not {"min_value", "max_value"} & set(inspect.signature(forms.number_input).parameters)


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_a_negative_price_says_the_rule_and_the_old_message_goes(owner: Engine) -> None:
    organizer = make_person(owner, ["admin"])
    at = open_page("ticket_types.py", organizer)
    at.session_state["tab"] = "Add a ticket type"
    at.run()
    new = next(t for t in at.text_input if str(t.key).startswith("tt_new_"))
    prefix = str(new.key).removesuffix("name")
    _button(at, "Add ticket type").click().run()
    assert "Name is required." in messages(at)

    at.text_input(key=f"{prefix}name").input(f"Standing {uuid.uuid4().hex[:6]}")
    at.number_input(key=f"{prefix}price").set_value(-5.0)
    _button(at, "Add ticket type").click().run()
    assert not at.exception
    shown = messages(at)
    assert "Price must be 0 or more." in shown
    assert "Name is required." not in shown, "a message that no longer holds stays"

    at.number_input(key=f"{prefix}price").set_value(25.0)
    _button(at, "Add ticket type").click().run()
    shown = messages(at)
    assert "Price must be 0 or more." not in shown and " added." in shown


def test_a_negative_multiplier_says_the_rule(owner: Engine) -> None:
    admin = make_person(owner, ["admin"])
    at = open_page("venues.py", admin)
    at.session_state["venue_tab"] = "Sections and seats"
    at.run()
    name = next(t for t in at.text_input if str(t.key).startswith("ns_"))
    prefix = str(name.key).removesuffix("_name")
    name.input(f"Terrace {uuid.uuid4().hex[:6]}")
    at.number_input(key=f"{prefix}_multiplier").set_value(-1.5)
    _button(at, "Add section").click().run()
    assert not at.exception
    assert "Price multiplier cannot be negative." in messages(at)


def test_a_negative_goal_is_refused_by_the_core(owner: Engine) -> None:
    marketer = make_person(owner, ["marketing"])
    with pytest.raises(ValidationError, match=r"The tickets goal must be 0 or more\."):
        create_campaign(
            marketer.actor(),
            CampaignDraft(
                name="Spring push",
                start_date=date.today(),
                end_date=date.today() + timedelta(days=30),
                status="draft",
                budget=Decimal("100"),
                goals={"tickets": -10},
            ),
        )
