"""The Sponsor ROI and Campaign analytics pages in AppTest on the small demo: charts with
their tables and CSV downloads, no exception, filters kept while moving between pages,
the rollup refresh button, the empty state; people without analytics.view see no access.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from core.auth import Identity
from tests.apptest import make_person, messages, open_page

PAGES = ("sponsor_roi.py", "campaign_analytics.py")


@pytest.fixture(scope="module")
def marketer(owner: Engine) -> Identity:
    return make_person(owner, ["marketing"])


def _range(at) -> tuple[date, date]:
    return at.date_input(key="analytics_from").value, at.date_input(key="analytics_to").value


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


@pytest.mark.parametrize("page", PAGES)
def test_each_dashboard_draws_its_charts_with_tables_and_downloads(
    marketer: Identity, page: str
) -> None:
    at = open_page(page, marketer)
    assert not at.exception
    assert not at.error
    assert _charts(at) >= 5
    # Every chart has a table view with the numbers behind it, and a CSV of them.
    assert len(at.dataframe) >= _charts(at)
    assert len(at.get("download_button")) >= _charts(at)
    assert [m.label for m in at.metric][:2] == ["Impressions", "Clicks"]
    assert "never been refreshed" in " ".join(c.value for c in at.caption)


def test_filters_are_kept_when_moving_between_the_pages(marketer: Identity) -> None:
    at = open_page("sponsor_roi.py", marketer)
    chosen = (date.today() - timedelta(days=200), date.today() - timedelta(days=10))
    at.date_input(key="analytics_from").set_value(chosen[0])
    at.date_input(key="analytics_to").set_value(chosen[1]).run()
    at.segmented_control(key="sponsor_roi_metric").set_value("Revenue").run()
    assert not at.exception
    at.switch_page("../pages/campaign_analytics.py").run()
    assert not at.exception
    assert _range(at) == chosen
    at.switch_page("../pages/overview.py").run()
    at.switch_page("../pages/sponsor_roi.py").run()
    assert _range(at) == chosen
    assert at.segmented_control(key="sponsor_roi_metric").value == "Revenue"


def test_the_refresh_button_refreshes_the_rollups_and_says_when(marketer: Identity) -> None:
    at = open_page("campaign_analytics.py", marketer)
    at.button(key="campaign_analytics_refresh").click().run()
    assert not at.exception
    assert "Rollups refreshed at" in messages(at)
    assert "Rollups last refreshed" in " ".join(c.value for c in at.caption)


def test_a_range_without_data_says_what_to_do(marketer: Identity) -> None:
    for page in PAGES:
        at = open_page(page, marketer)
        at.date_input(key="analytics_from").set_value(date(2018, 1, 1))
        at.date_input(key="analytics_to").set_value(date(2018, 1, 31)).run()
        assert not at.exception
        assert "Widen the dates" in messages(at)
        assert _charts(at) == 0


def test_an_organizer_sees_no_access(owner: Engine) -> None:
    organizer = make_person(owner, ["organizer"])
    for page in PAGES:
        at = open_page(page, organizer)
        assert [t.value for t in at.title] == ["No access"]


@pytest.mark.parametrize("page", PAGES)
def test_an_end_before_the_start_is_refused_not_swapped(marketer: Identity, page: str) -> None:
    """Defect 8: the range picker swapped a reversed range without a word; now each day is
    its own input and a reversed pair is refused with the rule, and nothing is drawn."""
    at = open_page(page, marketer)
    at.date_input(key="analytics_from").set_value(date(2026, 3, 10))
    at.date_input(key="analytics_to").set_value(date(2026, 3, 1)).run()
    assert not at.exception
    assert (
        "The end date (2026-03-01) is before the start date (2026-03-10): choose an end on or"
        " after the start." in messages(at)
    )
    assert _charts(at) == 0
    # Both days stay as the person typed them, for them to correct.
    assert _range(at) == (date(2026, 3, 10), date(2026, 3, 1))
    at.date_input(key="analytics_to").set_value(date(2026, 3, 31)).run()
    assert "before the start date" not in messages(at)
