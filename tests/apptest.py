"""Running a page through the real app shell in AppTest, signed in as someone.

Signing in through the form costs a password hash and two reruns per test; these helpers
put a real Identity (loaded from the database by core.auth) into the session instead, so
the router, the permission checks and row-level security all apply as in the browser.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import Identity, load_identity
from core.auth.permissions import role_id
from core.config import PROJECT_ROOT
from dashboard import session
from tests.factories import make_user

APP = str(PROJECT_ROOT / "dashboard" / "app.py")


def make_person(owner: Engine, roles: Iterable[str], **overrides: object) -> Identity:
    """An active user with `roles`, made as the owner; returns their Identity."""
    with Session(owner) as s, s.begin():
        user = make_user(s, **overrides)
        for role in roles:
            s.execute(
                text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
                {"u": user.id, "r": role_id(role)},
            )
        user_id: uuid.UUID = user.id
    identity = load_identity(user_id)
    assert identity is not None
    return identity


def open_page(page_file: str, identity: Identity, *, timeout: float = 60) -> AppTest:
    """The app signed in as `identity`, run once on pages/`page_file`."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state[session.IDENTITY] = identity
    at.session_state[session.LAST_ACTIVITY] = time.time()
    at.switch_page(f"../pages/{page_file}")
    return at.run()


def messages(at: AppTest) -> str:
    """Every error, warning, info and success text on the page, one per line."""
    parts = [*at.error, *at.warning, *at.info, *at.success]
    return "\n".join(str(p.value) for p in parts)
