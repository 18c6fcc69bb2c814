"""Files people open in a spreadsheet (CSV and Excel), with every cell inert.

Every export of the app goes through here: the table downloads of the pages, the audit
log's CSV and the GDPR export bundle's CSVs. A buyer named ``=HYPERLINK("http://…")`` or
``@SUM(A1:A9)`` must reach the spreadsheet as text, never as a formula the spreadsheet
runs when the file is opened (OWASP, "CSV Injection"):

- a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
  a leading single quote (`inert`), in CSV and in Excel alike, headers included;
- every CSV field is quoted, so a spreadsheet that splits on another separator (``;`` in
  many locales) cannot cut a cell in two and start a formula in the second half;
- Excel cells holding text are written as strings (``data_type 's'``): openpyxl would
  otherwise store any text starting with ``=`` as a formula.

Numbers, dates and booleans are not text and stay as they are (a refund of -5.00 stays a
number); only text is ever prefixed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

# The characters a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel limits sheet names to 31 characters.
SHEET_NAME_MAX = 31


def inert(value: Any) -> Any:
    """`value` as a spreadsheet cell that cannot start a formula: text starting with one
    of FORMULA_STARTS gets a leading single quote; anything that is not text is returned
    as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _writer(out: io.StringIO) -> Any:
    return csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")


def csv_line(values: Iterable[Any]) -> str:
    """One CSV line (with its line end) of `values`, each cell inert and quoted."""
    out = io.StringIO()
    _writer(out).writerow([inert(v) for v in values])
    return out.getvalue()


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV document: a header of `columns`, then one line per row (a mapping of column
    to value; a missing column is an empty cell)."""
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow([inert(c) for c in columns])
    for row in rows:
        writer.writerow([inert(row.get(c, "")) for c in columns])
    return out.getvalue()


def _inert_frame(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of `table` whose text cells and column names are inert."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column].dtype):
            safe[column] = safe[column].astype(object).map(inert)
    safe.columns = [inert(str(c)) for c in safe.columns]
    return safe


def table_csv(table: pd.DataFrame) -> bytes:
    """`table` as a UTF-8 CSV file (no index), every cell inert and quoted."""
    return (
        _inert_frame(table)
        .to_csv(index=False, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        .encode()
    )


def _excel_value(value: Any) -> Any:
    """`value` as openpyxl stores it: empty for missing values, datetimes in UTC without
    a zone (Excel has none), numpy scalars as Python ones, anything else unknown as text."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str | bool | int | float | Decimal | date | time):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def table_xlsx(table: pd.DataFrame, sheet: str = "data") -> bytes:
    """`table` as an Excel workbook of one sheet named `sheet` (cut to Excel's 31
    characters): a header row, then the rows; text cells inert and stored as strings."""
    book = Workbook(write_only=True)
    page = book.create_sheet((sheet or "data")[:SHEET_NAME_MAX])

    def cells(values: Iterable[Any]) -> list[WriteOnlyCell]:
        row = []
        for value in values:
            cell = WriteOnlyCell(page, value=inert(_excel_value(value)))
            if isinstance(cell.value, str):
                # openpyxl guesses a formula for text starting with "="; text is text.
                cell.data_type = "s"
            row.append(cell)
        return row

    page.append(cells(str(c) for c in table.columns))
    for record in table.itertuples(index=False, name=None):
        page.append(cells(record))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
