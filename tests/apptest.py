"""Running a page through the real app shell in AppTest, signed in as someone.

Signing in through the form costs a password hash and two reruns per test; these helpers
put a real Identity into the session instead: a sign-in session opened in the database
(as the owner, core.auth.sessions.open_session) and loaded through it by core.auth, so the
router, the permission checks and row-level security all apply as in the browser.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from core.auth import Identity, issue_identity
from core.auth.passwords import hash_password
from core.auth.permissions import role_id
from core.config import PROJECT_ROOT
from dashboard import session
from tests.factories import make_user

APP = str(PROJECT_ROOT / "dashboard" / "app.py")


def make_person(
    owner: Engine, roles: Iterable[str], *, password: str | None = None, **overrides: object
) -> Identity:
    """An active user with `roles` (and `password`, if given), made as the owner; returns
    their Identity, carrying a valid sign-in session."""
    with Session(owner) as s, s.begin():
        user = make_user(s, **overrides)
        for role in roles:
            s.execute(
                text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
                {"u": user.id, "r": role_id(role)},
            )
        if password is not None:
            set_password(s, user.id, password)
        user_id: uuid.UUID = user.id
    return sign_in_as(user_id)


def sign_in_as(user_id: uuid.UUID) -> Identity:
    """A fresh sign-in session for the active account `user_id`, opened as the owner."""
    identity = issue_identity(user_id)
    assert identity is not None, "only an active account gets a session"
    return identity


def set_password(session: Session, user_id: uuid.UUID, password: str | None) -> None:
    """Give `user_id` a password (None: none), as the owner, in `session`'s transaction."""
    session.execute(
        text(
            "INSERT INTO user_credentials (user_id, password_hash) VALUES (:u, :h)"
            " ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash"
        ),
        {"u": user_id, "h": hash_password(password) if password is not None else None},
    )


def open_page(
    page_file: str,
    identity: Identity,
    *,
    timeout: float = 60,
    query_params: dict[str, str] | None = None,
) -> AppTest:
    """The app signed in as `identity`, run once on pages/`page_file` (with the URL's
    `query_params`, as a link would open it)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state[session.IDENTITY] = identity
    at.session_state[session.LAST_ACTIVITY] = time.time()
    for name, value in (query_params or {}).items():
        at.query_params[name] = value
    at.switch_page(f"../pages/{page_file}")
    return at.run()


# A backslash before ASCII punctuation: how dashboard.text.md makes text render as itself.
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """What a person reads of `markdown` that dashboard.text.md escaped: neither the
    backslashes of its escapes nor its (invisible) word joiners show."""
    return _MARKDOWN_ESCAPE.sub(r"\1", markdown).replace("\u2060", "")


def messages(at: AppTest) -> str:
    """Every error, warning, info and success text on the page, one per line, as the
    person reads it."""
    parts = [*at.error, *at.warning, *at.info, *at.success]
    return "\n".join(shown(str(p.value)) for p in parts)


def keep_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """File name -> bytes of every download button the app draws from now on (AppTest
    keeps the media of a run in a storage that is gone when the run ends)."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        files[filename] = data
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files
