"""Streamlit entry point: prepares the database once per process, signs people in, routes.

Every registered page is always part of the navigation, so every URL resolves the same way
whoever asks; what a person sees is decided here, before any page runs:

- nobody signed in: the sign-in screen (at whatever URL; after sign-in that page opens);
- a password that must be changed: the change screen, nothing else;
- a page the person's permissions do not include: "no access" (the page stays hidden in
  the menu and keeps a neutral title, and its script never runs);
- otherwise the page itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from core.jobs import start_in_process  # noqa: E402
from dashboard import registry, session, views  # noqa: E402
from dashboard.runtime import ensure_database  # noqa: E402

# The favicon is a file of ours, served by this server: a ":material/…:" page icon makes
# the browser fetch the glyph from Google's font servers, and an internal tool loads
# nothing from outside (tests/test_browser_offline.py).
st.set_page_config(
    page_title="Fashionistas Operations",
    page_icon=str(ROOT / "dashboard" / "assets" / "favicon.svg"),
    layout="wide",
)

ensure_database()
# One background-job worker thread per server process (exports, periodic tasks);
# FASHIONISTAS_WORKER=off leaves it to `python -m core worker`. Idempotent per process.
start_in_process()

identity = session.current_identity()
working = identity is not None and not identity.must_change_password
permissions = identity.permissions if working and identity is not None else frozenset()
allowed = {
    spec.url_path for specs in registry.allowed_pages(permissions).values() for spec in specs
}

sections: dict[str, list[st.Page]] = {}
hidden: list[st.Page] = []
for spec in registry.PAGES:
    mine = spec.url_path in allowed
    page = st.Page(
        registry.PAGES_DIR / spec.file,
        # A page someone may not open keeps a neutral title: the browser tab and the
        # navigation data sent to the browser say nothing about what it is.
        title=spec.title if mine else ("No access" if working else "Sign in"),
        icon=spec.icon if mine else ":material/lock:",
        url_path=spec.url_path,
        default=spec.default,
        visibility="visible" if mine else "hidden",
    )
    if mine:
        sections.setdefault(spec.section, []).append(page)
    else:
        hidden.append(page)


reset_page = st.Page(
    views.RESET_PAGE,
    title="Set a new password",
    icon=":material/key:",
    url_path=views.RESET_URL_PATH,
    visibility="hidden",
)
hidden.append(reset_page)
# Hidden pages ride in the last listed section, so no section header shows up empty.
last_section = [s for s in registry.SECTIONS if s in sections][-1:] or [registry.SECTIONS[0]]
sections.setdefault(last_section[0], []).extend(hidden)
ordered = {name: sections[name] for name in registry.SECTIONS if name in sections}

# Expanded: an admin has some thirty pages, and Streamlit would otherwise fold all but ten
# behind "View more", hiding whole sections.
navigation = st.navigation(ordered, position="sidebar" if working else "hidden", expanded=True)
views.sidebar(identity)
requested = navigation.url_path or registry.default_page().url_path

if requested == views.RESET_URL_PATH:
    navigation.run()
elif identity is None:
    views.sign_in_view()
elif identity.must_change_password:
    views.forced_change_view(identity)
elif requested not in allowed:
    views.no_access_view()
else:
    navigation.run()
