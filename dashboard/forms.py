"""What every form of the dashboard shares for numbers: fields that never refuse in
silence.

A number field with bounds (Streamlit's `min_value` / `max_value`) turns red in the
browser when a person types a number outside them, and keeps the last good value: the
submit button then seems to do nothing, and a message from the last try (say "Name is
required.") stays on screen beside a name that is filled in by now. So the fields here
have no bounds in the browser. Every number reaches the core service, which refuses an
out-of-range one with its rule ("Price must be 0 or more."), shown by `show_error`; the
next submit runs the page again, so a message that no longer holds is gone.

Pages draw number fields only through `number_input` (tests/test_forms.py checks).
"""

from __future__ import annotations

from typing import Any

from streamlit.delta_generator import DeltaGenerator


def number_input(
    container: DeltaGenerator | Any,
    label: str,
    *,
    key: str,
    value: int | float | None = None,
    step: int | float | None = None,
    format: str | None = None,
    help: str | None = None,
    placeholder: str | None = None,
    disabled: bool = False,
) -> Any:
    """A number field in `container` (a column, a form, `st`) without bounds: whole
    numbers when `value` and `step` are whole, decimals otherwise; None while empty
    (when `value` is None). The core checks the range."""
    return container.number_input(
        label,
        value=value,
        step=step,
        format=format,
        key=key,
        help=help,
        placeholder=placeholder,
        disabled=disabled,
    )
