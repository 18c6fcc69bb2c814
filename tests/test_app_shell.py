"""The app shell in real Streamlit (AppTest) on the session's PostgreSQL database.

Sign-in, the forced password change, what each role can reach, "no access", session expiry
and deactivation, and the Users & roles page. People are made with the factories and
core.auth's own hashing (committed, with unique emails), then act through the UI.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import (
    Identity,
    deactivate_user,
    load_identity,
    reset_password,
    sign_in_with_password,
)
from core.auth.permissions import ALL_ROLES, permissions_of, role_id
from core.auth.sessions import open_session
from core.config import PROJECT_ROOT
from dashboard import registry, session
from dashboard.views import NO_ACCESS
from tests.apptest import set_password, shown
from tests.factories import make_user

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
PASSWORD = "a-long-test-password"

# What each role's menu holds, section by section: the registry's pages today.
EXPECTED_MENUS: dict[str, dict[str, list[str]]] = {
    "admin": {
        "Home": ["Overview"],
        "Events": [
            "Events",
            "Venues",
            "Ticket types",
            "Seat map",
            "Box office",
            "Orders",
            "Discount codes",
            "Attendees",
        ],
        "Compliance": ["Audit log", "Retention & keys", "Data requests"],
        "Admin": ["Users & roles", "API keys", "Webhooks"],
        "Account": ["My account"],
    },
    "organizer": {
        "Home": ["Overview"],
        "Events": [
            "Events",
            "Venues",
            "Ticket types",
            "Seat map",
            "Box office",
            "Orders",
            "Discount codes",
            "Attendees",
        ],
        "Account": ["My account"],
    },
    # Staff work the door: they sell and look orders up, but change no event.
    "staff": {
        "Home": ["Overview"],
        "Events": ["Seat map", "Box office", "Orders", "Attendees"],
        "Account": ["My account"],
    },
    **{
        role: {"Home": ["Overview"], "Account": ["My account"]}
        for role in ("marketing", "designer", "sponsor")
    },
}

# The showcase (issue 8): every role sees it; designers and admins also their analytics.
SHOWCASE_MENU = ["Showcase", "Designers", "Collections", "Runway shows", "Models"]
for _role, _menu in EXPECTED_MENUS.items():
    _menu["Showcase"] = SHOWCASE_MENU + (
        ["Designer analytics"] if _role in ("admin", "designer") else []
    )

# Marketing (issue 7): admins and marketing manage sponsors and campaigns, read analytics.
MARKETING_MENU = ["Sponsors", "Sponsor ROI", "Campaigns", "Campaign analytics"]
for _role in ("admin", "marketing"):
    EXPECTED_MENUS[_role]["Marketing"] = list(MARKETING_MENU)

Person = tuple[str, uuid.UUID]


@pytest.fixture(scope="module")
def db(secure_database) -> Engine:
    """This module's own database (its owner engine); the app reaches it as the app role,
    so row-level security applies to everything the pages do."""
    return secure_database.owner


@pytest.fixture
def person(db: Engine) -> Callable[..., Person]:
    """Make an active person with `roles` and PASSWORD; returns (email, user_id)."""

    def make(roles: Iterable[str], password: str | None = PASSWORD, **overrides: object) -> Person:
        with Session(db) as s, s.begin():
            user = make_user(s, **overrides)
            set_password(s, user.id, password)
            for role in roles:
                s.execute(
                    text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
                    {"u": user.id, "r": role_id(role)},
                )
            return user.email, user.id

    return make


@pytest.fixture
def admin(person: Callable[..., Person]) -> Identity:
    email, _ = person(["admin"])
    return sign_in_with_password(email, PASSWORD)


def _now(user_id: uuid.UUID) -> Identity | None:
    """The person as a fresh session sees them now (None: the account is not active)."""
    token = open_session(user_id)
    return load_identity(token) if token else None


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def _button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return matches[0]


def _texts(at: AppTest) -> str:
    parts = [
        *(shown(e.value) for e in at.error),
        *(shown(e.value) for e in at.warning),
        *(shown(e.value) for e in at.info),
        *(shown(e.value) for e in at.success),
    ]
    return "\n".join(str(p) for p in parts)


def _sign_in(at: AppTest, email: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="sign_in_email").input(email)
    at.text_input(key="sign_in_password").input(password)
    return _button(at, "Sign in").click().run()


def _signed_in_app(email: str) -> AppTest:
    at = _sign_in(_app().run(), email)
    assert not at.exception
    assert at.title[0].value == "Overview"
    return at


# -- sign-in -------------------------------------------------------------------------


def test_signed_out_visitor_sees_only_the_sign_in_form(db: Engine) -> None:
    at = _app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.metric, "no data before sign-in"
    assert session.IDENTITY not in at.session_state


def test_wrong_password_is_refused_and_the_right_one_lands_on_overview(
    db: Engine, person: Callable[..., Person]
) -> None:
    email, user_id = person(["organizer"])
    at = _sign_in(_app().run(), email, "not-the-password-at-all")
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert [shown(e.value) for e in at.error] == ["Email or password is wrong."]
    # An unknown email gets the very same message.
    at = _sign_in(at, f"nobody-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    assert [shown(e.value) for e in at.error] == ["Email or password is wrong."]

    at = _sign_in(at, email)
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert at.metric, "the overview's figures are shown"
    assert at.session_state[session.IDENTITY].user_id == user_id
    sidebar = " ".join(shown(str(m.value)) for m in [*at.sidebar.markdown, *at.sidebar.caption])
    assert email in sidebar and "organizer" in sidebar


def test_sign_out_clears_the_session(db: Engine, person: Callable[..., Person]) -> None:
    email, _ = person(["staff"])
    at = _signed_in_app(email)
    token = at.session_state[session.IDENTITY].session_token
    at = _button(at, "Sign out").click().run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert session.IDENTITY not in at.session_state
    assert "You are signed out." in _texts(at)
    # The database session ended too: the token no longer acts as anyone.
    assert load_identity(token) is None


def test_a_must_change_password_account_can_do_nothing_else_until_it_changes(
    db: Engine, person: Callable[..., Person]
) -> None:
    email, user_id = person(["admin"], must_change_password=True)
    at = _sign_in(_app().run(), email)
    assert not at.exception
    assert at.title[0].value == "Choose a new password"
    # Any page's URL still shows only the change form.
    for spec in registry.PAGES:
        at.switch_page(f"../pages/{spec.file}").run()
        assert [t.value for t in at.title] == ["Choose a new password"], spec.file
        assert not at.metric and not at.dataframe

    at.text_input(key="forced_change_current").input(PASSWORD)
    at.text_input(key="forced_change_new").input("short")
    at.text_input(key="forced_change_repeat").input("short")
    at = _button(at, "Change password").click().run()
    assert "at least 12 characters" in _texts(at)
    assert at.title[0].value == "Choose a new password"

    new_password = "my-own-new-password-2026"
    at.text_input(key="forced_change_current").input(PASSWORD)
    at.text_input(key="forced_change_new").input(new_password)
    at.text_input(key="forced_change_repeat").input(new_password)
    at = _button(at, "Change password").click().run()
    assert not at.exception
    # The URL was the last page switched to; now that page itself opens.
    assert at.title[0].value == registry.PAGES[-1].title
    identity = sign_in_with_password(email, new_password)
    assert identity.user_id == user_id and not identity.must_change_password


# -- navigation and access -------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role_gets_exactly_its_menu(role: str) -> None:
    menu = {
        section: [spec.title for spec in specs]
        for section, specs in registry.allowed_pages(permissions_of({role})).items()
    }
    assert menu == EXPECTED_MENUS[role]


@pytest.mark.parametrize("role", ["admin", "organizer", "marketing"])
def test_each_role_opens_its_pages_and_no_others(
    db: Engine, person: Callable[..., Person], role: str
) -> None:
    email, _ = person([role])
    at = _signed_in_app(email)
    mine = {title for titles in EXPECTED_MENUS[role].values() for title in titles}
    for spec in registry.PAGES:
        at.switch_page(f"../pages/{spec.file}").run()
        assert not at.exception, spec.file
        if spec.title in mine:
            assert at.title[0].value == spec.title
            assert NO_ACCESS not in _texts(at)
        else:
            assert [t.value for t in at.title] == ["No access"]
            assert [shown(w.value) for w in at.warning] == [NO_ACCESS]
            assert not at.dataframe and not at.text_input, "nothing of the page itself"


def test_a_deep_link_opened_signed_out_opens_after_sign_in(
    db: Engine, person: Callable[..., Person]
) -> None:
    email, _ = person(["admin"])
    at = _app().run()
    at.switch_page("../pages/account.py").run()
    assert at.title[0].value == "Sign in"
    at = _sign_in(at, email)
    assert at.title[0].value == "My account"


def test_an_idle_session_expires(db: Engine, person: Callable[..., Person]) -> None:
    email, _ = person(["organizer"])
    at = _signed_in_app(email)
    # Activity within the limit keeps the session.
    at.session_state[session.LAST_ACTIVITY] = time.time() - 29 * 60
    at.run()
    assert at.title[0].value == "Overview"
    at.session_state[session.LAST_ACTIVITY] = time.time() - 31 * 60
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert "ended after 30 minutes without activity" in _texts(at)
    assert session.IDENTITY not in at.session_state


def test_a_deactivated_person_is_signed_out_on_the_next_rerun(
    db: Engine, person: Callable[..., Person], admin: Identity
) -> None:
    email, user_id = person(["organizer"])
    at = _signed_in_app(email)
    deactivate_user(admin.actor(), user_id)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert session.DEACTIVATED in _texts(at)


# -- Users & roles ---------------------------------------------------------------------


def _users_page(admin_email: str) -> AppTest:
    at = _signed_in_app(admin_email)
    at.switch_page("../pages/users.py").run()
    assert not at.exception
    assert at.title[0].value == "Users & roles"
    return at


def test_admin_invites_someone_who_then_signs_in_with_the_token(
    db: Engine, admin: Identity
) -> None:
    at = _users_page(admin.email)
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    at.text_input(key="invite_email").input(email)
    at.text_input(key="invite_name").input("Ines Invitee")
    at.multiselect(key="invite_roles").set_value(["marketing"])
    at = _button(at, "Invite").click().run()
    assert not at.exception
    assert f"Invited for {email}" in _texts(at)
    token = at.code[0].value
    # Shown once: the next rerun no longer has it.
    at.run()
    assert not at.code

    reset_password(token, "invitee-password-123")
    identity = sign_in_with_password(email, "invitee-password-123")
    assert identity.roles == {"marketing"}


def test_invalid_invitation_shows_the_rule(db: Engine, admin: Identity) -> None:
    at = _users_page(admin.email)
    at.text_input(key="invite_email").input("not an email")
    at.text_input(key="invite_name").input("Someone")
    at = _button(at, "Invite").click().run()
    assert not at.exception
    assert at.error, "the DomainError's message is shown"
    assert "Traceback" not in _texts(at)


def test_admin_sets_roles_and_deactivates_after_confirming(
    db: Engine, person: Callable[..., Person], admin: Identity
) -> None:
    email, user_id = person(["organizer"])
    at = _users_page(admin.email)
    at.text_input(key="users_search").input(email).run()
    table = at.dataframe[0].value
    assert list(table["Email"]) == [email]
    assert list(table["Roles"]) == ["organizer"]

    at.selectbox(key="users_pick").set_value(str(user_id)).run()
    at.multiselect(key=f"roles_{user_id}").set_value(["marketing", "staff"])
    at = _button(at, "Save roles").click().run()
    assert not at.exception
    refreshed = _now(user_id)
    assert refreshed is not None and refreshed.roles == {"marketing", "staff"}

    at = _button(at, "Deactivate…").click().run()
    assert any("Deactivate" in shown(w.value) for w in at.warning)
    assert _now(user_id) is not None, "nothing happens before the confirmation"
    at = _button(at, "Cancel").click().run()
    assert _now(user_id) is not None

    at = _button(at, "Deactivate…").click().run()
    at = _button(at, "Yes, deactivate").click().run()
    assert not at.exception
    assert _now(user_id) is None
    assert load_identity(refreshed.session_token) is None, "their sessions ended"
    assert list(at.dataframe[0].value["Status"]) == ["inactive"]

    at = _button(at, "Reactivate").click().run()
    assert _now(user_id) is not None


def test_the_users_table_filters_by_role_and_status(
    db: Engine, person: Callable[..., Person], admin: Identity
) -> None:
    tag = uuid.uuid4().hex[:8]
    person(["designer"], email=f"filter-{tag}-a@example.com")
    person(["sponsor"], email=f"filter-{tag}-b@example.com")
    at = _users_page(admin.email)
    at.text_input(key="users_search").input(f"filter-{tag}").run()
    assert len(at.dataframe[0].value) == 2
    at.selectbox(key="users_role").set_value("sponsor").run()
    assert list(at.dataframe[0].value["Email"]) == [f"filter-{tag}-b@example.com"]
    at.selectbox(key="users_status").set_value("inactive").run()
    assert at.dataframe[0].value.empty


def test_a_non_admin_cannot_reach_the_users_page_or_its_services(
    db: Engine, person: Callable[..., Person]
) -> None:
    email, user_id = person(["organizer"])
    at = _signed_in_app(email)
    at.switch_page("../pages/users.py").run()
    assert [t.value for t in at.title] == ["No access"]
    assert [shown(w.value) for w in at.warning] == [NO_ACCESS]
    from core.auth import PermissionDenied, list_users

    organizer = _now(user_id)
    assert organizer is not None
    with pytest.raises(PermissionDenied):
        list_users(organizer.actor())


def test_the_users_page_shows_throttled_addresses_and_lifts_a_throttle(
    db: Engine, person: Callable[..., Person], admin: Identity
) -> None:
    from core.auth import SignInFailed, SignInThrottled

    email, _ = person(["organizer"])
    n = uuid.uuid4().int
    ip = f"203.0.{n % 250}.{(n >> 8) % 250 + 1}"
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in_with_password(email, "not the password", ip_address=ip)
    with pytest.raises(SignInThrottled, match="wait 1 second"):
        sign_in_with_password(email, PASSWORD, ip_address=ip)
    # As if the address had gone on failing: a wait the page cannot outlast while it loads.
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE sign_in_throttles SET failures = 12,"
                " blocked_until = now() + interval '10 minutes'"
                " WHERE ip_address = :ip AND kind = 'account'"
            ),
            {"ip": ip},
        )
    at = _users_page(admin.email)
    [table] = [d.value for d in at.dataframe if "Address" in d.value.columns]
    mine = table[table["Address"] == ip]
    assert set(mine["Email typed"]) == {email.lower(), "any"}
    assert list(mine[mine["Email typed"] == email.lower()]["Slowed now"]) == [True]
    at.selectbox(key="throttle_address").set_value(ip).run()
    at = _button(at, "Lift the throttle of this address").click().run()
    assert not at.exception
    assert sign_in_with_password(email, PASSWORD, ip_address=ip).email == email
    assert "Unlock" not in [b.label for b in at.button]


def test_forgot_password_a_token_from_an_admin_sets_a_new_password(
    db: Engine, person: Callable[..., Person], admin: Identity
) -> None:
    email, user_id = person(["designer"])
    at = _users_page(admin.email)
    at.text_input(key="users_search").input(email).run()
    at.selectbox(key="users_pick").set_value(str(user_id)).run()
    at = _button(at, "New reset token").click().run()
    assert not at.exception
    token = at.code[0].value

    visitor = _app().run()
    visitor.switch_page("../pages/reset_password.py").run()
    assert visitor.title[0].value == "Set a new password"
    visitor.text_input(key="reset_token").input("not-a-token")
    visitor.text_input(key="reset_new").input("forgotten-and-found-again")
    visitor.text_input(key="reset_repeat").input("forgotten-and-found-again")
    visitor = _button(visitor, "Set password").click().run()
    assert visitor.error, "an unknown token is refused with a message"
    assert "Traceback" not in _texts(visitor)

    visitor.text_input(key="reset_token").input(token)
    visitor.text_input(key="reset_new").input("forgotten-and-found-again")
    visitor.text_input(key="reset_repeat").input("forgotten-and-found-again")
    visitor = _button(visitor, "Set password").click().run()
    assert not visitor.exception
    assert "Your password is set" in _texts(visitor)
    assert sign_in_with_password(email, "forgotten-and-found-again").user_id == user_id


# -- OpenID Connect ----------------------------------------------------------------------


def test_oidc_sign_in_maps_the_providers_email_to_an_invited_person(
    db: Engine, person: Callable[..., Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHIONISTAS_AUTH", "oidc")
    email, user_id = person(["marketing"], password=None)
    at = _app()
    at.user = {"is_logged_in": False}
    at.run()
    assert at.title[0].value == "Sign in"
    assert not at.text_input, "no password form with OIDC"
    assert _button(at, "Sign in with your company account")

    at.user = {"is_logged_in": True, "email": email, "email_verified": True, "name": "M"}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert at.session_state[session.IDENTITY].user_id == user_id


def test_oidc_sign_in_refuses_an_uninvited_email(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHIONISTAS_AUTH", "oidc")
    at = _app()
    at.user = {"is_logged_in": True, "email": f"stranger-{uuid.uuid4().hex[:8]}@example.com"}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert "ask an admin to invite you" in _texts(at)
    assert _button(at, "Sign out of the identity provider")
    assert session.IDENTITY not in at.session_state
