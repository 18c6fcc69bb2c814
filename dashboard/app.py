"""Streamlit entry point: prepares the database once per process and routes to the pages."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.runtime import ensure_database  # noqa: E402

st.set_page_config(
    page_title="Fashionistas Operations", page_icon=":material/checkroom:", layout="wide"
)

ensure_database()

PAGES = ROOT / "pages"
navigation = st.navigation(
    {
        "Home": [
            st.Page(
                PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True
            ),
        ],
    }
)
navigation.run()
