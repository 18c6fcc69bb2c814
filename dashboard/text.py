"""People's text shown as itself wherever Streamlit renders Markdown.

Streamlit renders Markdown in far more places than `st.markdown`: captions, titles and
headers, alerts, toasts, metric labels and values, widget labels and help, radio and
segmented-control options, tab and expander labels, page links. A designer named
``[click](http://evil.example) ![x](http://evil.example/x.png)`` would put a link and an
image (a request to a server of the attacker's, with the viewer's address) on the page;
``$x$`` typesets math, ``:red[...]`` colours, ``**`` makes bold, and so on.

`md` is the one escape, for every piece of text a person (or an import) supplied: it
puts a backslash before every ASCII punctuation character, which CommonMark (and so
Streamlit) shows as the character itself, and keeps web addresses from being linked by
an invisible word joiner. Whole messages that are never meant as
Markdown (flash messages, domain errors, confirmation questions) are escaped entirely by
the widgets that show them; pages escape the values they put into their own Markdown.

Places that are not Markdown (selectbox and multiselect options, data frames, text
inputs' values, `st.text`, `st.code`) show text as it is: escaping there would show the
backslashes. Plotly charts are not Markdown either but have an HTML dialect of their own;
`dashboard.charts.plot` escapes a figure's data for it.
"""

from __future__ import annotations

import re
import string
from urllib.parse import quote

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_ENDS = re.compile(r"\r\n?")
# Streamlit also turns web addresses in plain text into links (GFM's autolink literals),
# after escapes are read: a word joiner (invisible, U+2060) after "http", "https" or
# "www" keeps them text. E-mail addresses are left as they are: people copy and search
# them, and the link Streamlit makes (mailto:) shows the address it goes to.
_WORD_JOINER = "\u2060"
_AUTOLINK_START = re.compile(r"(?i)(https?|www)(?=\\[:.])")
# Characters a web address keeps as they are; parentheses, angle brackets, spaces and
# backslashes are percent-encoded, so none can end the Markdown link.
_URL_SAFE = ":/?#[]@!$&'*+,;=%~-._"


def md(value: object) -> str:
    """`value` (as text; None is empty) escaped so that Markdown renders exactly it."""
    if value is None:
        return ""
    escaped = _PUNCTUATION.sub(r"\\\1", _LINE_ENDS.sub("\n", str(value)))
    return _AUTOLINK_START.sub(r"\1" + _WORD_JOINER, escaped)


def md_link(label: object, url: str | None) -> str:
    """A Markdown link to a web address a person gave (http or https only), its text
    escaped and its address percent-encoded so that it can neither end the link early
    nor open an image; anything else is shown as text."""
    address = (url or "").strip()
    if not re.match(r"https?://", address, re.IGNORECASE):
        return md(f"{label}: {address}" if address else label)
    return f"[{md(label)}](<{quote(address, safe=_URL_SAFE)}>)"
