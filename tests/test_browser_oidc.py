"""OpenID Connect for real: `FASHIONISTAS_AUTH=oidc` in a real browser, against a real
OpenID Connect provider process (oidc-provider-mock, started here on a free port), through
Streamlit's own st.login (the `auth` extra, Authlib). Nothing is faked: the browser follows
the provider's redirects, the provider signs the ID token, Streamlit verifies it.

The test writes its own secrets file (a temporary folder, never the repository) and points
Streamlit at it with the `secrets.files` option. The provider's predefined users are an
invited person, an uninvited one and an invited one whose email the provider has not
verified.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from tests.browser import (
    browser,
    free_port,
    needs_chromium,
    run_setup,
    server_env,
    set_up_admin,
    streamlit_server,
)

__all__ = ["browser"]  # a fixture, used by name
pytestmark = needs_chromium

PASSWORD = "oidc-browser-admin-password"
INVITED = "ines.invited@example.com"
STRANGER = "sam.stranger@example.com"
UNVERIFIED = "uma.unverified@example.com"

# Invites two people the way an admin does (pending accounts with roles), as the owner.
INVITE = """
import sys
from sqlalchemy import text
from core.auth.permissions import role_id
from core.db import get_owner_engine
with get_owner_engine().begin() as conn:
    for email in sys.argv[1:]:
        user = conn.execute(text(
            "INSERT INTO users (email, full_name, user_type, status)"
            " VALUES (:e, :n, 'marketing', 'pending') RETURNING id"),
            {"e": email, "n": email.split("@")[0].replace(".", " ").title()}).scalar()
        conn.execute(text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
                     {"u": user, "r": role_id("marketing")})
print("invited")
"""
# Deactivates a person as an admin would (the trigger of migration 0012 ends their
# sessions), and prints how their sessions ended.
DEACTIVATE = """
import sys
from sqlalchemy import text
from core.db import get_owner_engine
with get_owner_engine().begin() as conn:
    conn.execute(text("UPDATE users SET status = 'inactive' WHERE lower(email) = :e"),
                 {"e": sys.argv[1]})
with get_owner_engine().connect() as conn:
    reasons = conn.execute(text(
        "SELECT string_agg(DISTINCT coalesce(s.revoked_reason, 'open'), ',') FROM auth_sessions s"
        " JOIN users u ON u.id = s.user_id WHERE lower(u.email) = :e"), {"e": sys.argv[1]}).scalar()
print(reasons)
"""
SESSIONS = """
import sys
from sqlalchemy import text
from core.db import get_owner_engine
with get_owner_engine().connect() as conn:
    print(conn.execute(text(
        "SELECT string_agg(s.method || ':' || coalesce(s.revoked_reason, 'open'), ','"
        " ORDER BY s.created_at) FROM auth_sessions s JOIN users u ON u.id = s.user_id"
        " WHERE lower(u.email) = :e"), {"e": sys.argv[1]}).scalar())
"""


@dataclass(frozen=True)
class Dashboard:
    url: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running oidc-provider-mock with three predefined users; yields its issuer URL."""
    port = free_port()
    users = [
        {"sub": "ines", "email": INVITED, "email_verified": True, "name": "Ines Invited"},
        {"sub": "sam", "email": STRANGER, "email_verified": True, "name": "Sam Stranger"},
        {"sub": "uma", "email": UNVERIFIED, "email_verified": False, "name": "Uma Unverified"},
    ]
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for user in users:
        command += ["--user-claims", json.dumps(user)]
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        issuer = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    with urllib.request.urlopen(
                        f"{issuer}/.well-known/openid-configuration", timeout=2
                    ) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
            yield issuer
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def dashboard(
    databases, provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    """The dashboard with FASHIONISTAS_AUTH=oidc on a scratch database, its secrets in a
    temporary file the test wrote."""
    env = server_env(databases.create("fashionistas_oidc"))
    set_up_admin(env, PASSWORD)
    assert run_setup(env, INVITE, INVITED, UNVERIFIED) == "invited"
    env = {**env, "FASHIONISTAS_AUTH": "oidc"}
    port = free_port()
    folder = tmp_path_factory.mktemp("secrets")
    secrets_file = Path(folder) / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "fashionistas-browser-test"\n'
        f'client_secret = "{secrets.token_urlsafe(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    with streamlit_server(
        env,
        Path(folder) / "server.log",
        port=port,
        extra_args=("--secrets.files", str(secrets_file)),
    ) as url:
        yield Dashboard(url, env)


def _sign_in_at_the_provider(page: object, url: str, sub: str) -> None:
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")  # type: ignore[attr-defined]
    button = page.get_by_role("button", name="Sign in with your company account")  # type: ignore[attr-defined]
    expect(button).to_be_visible(timeout=60_000)
    button.click()
    # The provider's own authorization form: the predefined user's button.
    authorize = page.get_by_role("button", name=sub, exact=True)  # type: ignore[attr-defined]
    expect(authorize).to_be_visible(timeout=60_000)
    authorize.click()


def _new_page(browser: object, url: str) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    return page


def test_an_invited_person_signs_in_and_out_through_the_provider(
    dashboard: Dashboard, browser: object
) -> None:
    from playwright.sync_api import expect

    page = _new_page(browser, dashboard.url)
    try:
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
        expect(page.get_by_label("Password")).to_have_count(0)  # type: ignore[attr-defined]
        _sign_in_at_the_provider(page, dashboard.url, "ines")
        expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
        expect(page.get_by_test_id("stSidebar").get_by_text(INVITED)).to_be_visible()  # type: ignore[attr-defined]
        assert run_setup(dashboard.env, SESSIONS, INVITED) == "oidc:open"

        page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
        # Streamlit sends the browser through the provider's end-session endpoint.
        confirm = page.get_by_role("button", name="End session")  # type: ignore[attr-defined]
        confirm.or_(page.get_by_role("heading", name="Sign in")).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
        if confirm.count():
            confirm.click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
        expect(page.get_by_role("button", name="Sign in with your company account")).to_be_visible()  # type: ignore[attr-defined]
        assert run_setup(dashboard.env, SESSIONS, INVITED) == "oidc:signed_out"
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_an_uninvited_email_is_refused(dashboard: Dashboard, browser: object) -> None:
    from playwright.sync_api import expect

    page = _new_page(browser, dashboard.url)
    try:
        _sign_in_at_the_provider(page, dashboard.url, "sam")
        expect(page.get_by_text("ask an admin to invite you")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
        expect(page.get_by_role("heading", name="Overview")).to_have_count(0)  # type: ignore[attr-defined]
        expect(page.get_by_role("button", name="Sign out of the identity provider")).to_be_visible()  # type: ignore[attr-defined]
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_an_unverified_email_is_refused(dashboard: Dashboard, browser: object) -> None:
    from playwright.sync_api import expect

    page = _new_page(browser, dashboard.url)
    try:
        _sign_in_at_the_provider(page, dashboard.url, "uma")
        expect(page.get_by_text("has not verified")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
        expect(page.get_by_role("heading", name="Overview")).to_have_count(0)  # type: ignore[attr-defined]
        assert run_setup(dashboard.env, SESSIONS, UNVERIFIED) == "None"
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_deactivation_ends_the_session_at_once(dashboard: Dashboard, browser: object) -> None:
    from playwright.sync_api import expect

    page = _new_page(browser, dashboard.url)
    try:
        _sign_in_at_the_provider(page, dashboard.url, "ines")
        expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
        ended = run_setup(dashboard.env, DEACTIVATE, INVITED).split(",")
        assert "deactivated" in ended and "open" not in ended
        # The next thing the person does finds the session ended.
        page.get_by_test_id("stSidebarNav").get_by_text("My account").click()  # type: ignore[attr-defined]
        expect(page.get_by_role("heading", name="My account")).to_have_count(0, timeout=30_000)  # type: ignore[attr-defined]
        confirm = page.get_by_role("button", name="End session")  # type: ignore[attr-defined]
        confirm.or_(page.get_by_role("heading", name="Sign in")).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
        if confirm.count():
            confirm.click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
        # Signing in again at the provider does not get the deactivated person back in.
        _sign_in_at_the_provider(page, dashboard.url, "ines")
        expect(page.get_by_text("no active account")).to_be_visible(timeout=60_000)  # type: ignore[attr-defined]
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_the_secrets_example_names_every_key_the_test_needed() -> None:
    example = (PROJECT_ROOT / ".streamlit" / "secrets.toml.example").read_text()
    for key in ("redirect_uri", "cookie_secret", "client_id", "client_secret",
                "server_metadata_url"):  # fmt: skip
        assert f"\n{key} = " in example, key
