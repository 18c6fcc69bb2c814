"""API keys (issue 16) on a real PostgreSQL under row-level security: creation and its
validation, authentication of every kind of bad key, the key acting as its owner, rate
limits shared by several processes, the usage log off the request path, rotation,
revocation, the endpoint registry, the command line, and the secret nowhere it must not
be."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from core.api_keys import (
    SCOPES,
    EndpointSpec,
    authenticate,
    check_key,
    clear_cache,
    create_key,
    flush_usage,
    forget,
    list_keys,
    record_usage,
    register_endpoints,
    require_scope,
    revoke_key,
    rotate_key,
    usage_summary,
)
from core.auth import Identity
from core.checkout.wire import PipelinedWork
from core.config import PROJECT_ROOT
from core.db import Actor, unit_of_work
from core.errors import NotFound, PermissionDenied, RateLimited, Unauthenticated, ValidationError
from tests.apptest import make_person
from tests.factories import make_event

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

APP_POOL_SIZE = 2  # the usage flusher beside a test's own unit of work


def _auth(raw: str | None, ip: str = "203.0.113.7"):
    return authenticate(raw, method="GET", path="/v1/events", ip_address=ip, user_agent="pytest")


@pytest.fixture(scope="module")
def admin(owner: Engine) -> Identity:
    return make_person(owner, ["admin"])


def _email(owner: Engine, who: Identity) -> str:
    with owner.connect() as conn:
        return conn.execute(
            text("SELECT email FROM users WHERE id = :u"), {"u": who.user_id}
        ).one()[0]


def _key(owner: Engine, admin: Identity, who: Identity, **kw):
    kw.setdefault("scopes", ["events:read"])
    kw.setdefault("name", "test key")
    return create_key(admin.actor(), owner_email=_email(owner, who), **kw)


def _act_as(conn, who: Identity) -> None:
    """Act as `who` on the app role's connection for the rest of its transaction."""
    conn.execute(
        text("SELECT set_config('app.session', :t, true)"), {"t": who.actor().session_token}
    )


def _wait_for_fresh_minute() -> None:
    # Rate windows are calendar minutes: keep a counting test inside one.
    if datetime.now(UTC).second >= 45:
        time.sleep(61 - datetime.now(UTC).second)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["events:read", "everything"]}, "scopes"),
        ({"scopes": "events:read"}, "scopes"),
        ({"expires_at": datetime.now(UTC) - timedelta(days=1)}, "expires_at"),
        ({"expires_at": "2027-01-01"}, "expires_at"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit": 10**9}, "rate_limit"),
        ({"rate_limit": "5"}, "rate_limit"),
        ({"owner_email": ""}, "owner_email"),
    ],
)
def test_bad_input_names_the_field(
    owner: Engine, admin: Identity, organizer: Identity, kw: dict, field: str
) -> None:
    args = {"owner_email": _email(owner, organizer), "name": "k", "scopes": ["events:read"]}
    args.update(kw)
    with pytest.raises(ValidationError) as caught:
        create_key(admin.actor(), **args)
    assert caught.value.field == field


def test_only_key_managers_create_keys_and_for_known_active_owners(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    with pytest.raises(PermissionDenied):
        _key(owner, organizer, organizer)
    with pytest.raises(NotFound) as caught:
        create_key(admin.actor(), owner_email="nobody@example.invalid", name="k", scopes=SCOPES)
    assert caught.value.field == "owner_email"
    # An anonymous actor is nobody: no permission at all.
    with pytest.raises(PermissionDenied):
        create_key(
            Actor(user_id=None), owner_email=_email(owner, organizer), name="k", scopes=SCOPES
        )


def test_a_key_acts_as_its_owner_under_row_level_security_and_in_the_audit_trail(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    other = make_person(owner, ["organizer"])
    with Session(owner) as s, s.begin():
        from core.models import User

        mine = make_event(s, s.get(User, organizer.user_id), status="draft").id
        theirs = make_event(s, s.get(User, other.user_id), status="draft").id
    created = _key(owner, admin, organizer, scopes=["events:read", "events:write"])
    assert created.secret.startswith(created.prefix + "_")
    principal = _auth(created.secret)
    assert principal.owner_id == organizer.user_id
    assert principal.key_id == created.key_id
    assert principal.scopes == ("events:read", "events:write")
    with unit_of_work(principal.actor) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() == (
            organizer.user_id
        )
        visible = set(
            uow.session.execute(
                text("SELECT id FROM events WHERE id IN (:a, :b)"), {"a": mine, "b": theirs}
            ).scalars()
        )
        assert visible == {mine}
        changed = (
            uow.session.execute(
                text(
                    "UPDATE events SET title = 'Renamed by key' WHERE id IN (:a, :b) RETURNING id"
                ),
                {"a": mine, "b": theirs},
            )
            .scalars()
            .all()
        )
        assert changed == [mine]
        uow.commit()
    with owner.connect() as conn:
        who = conn.execute(
            text(
                "SELECT user_id, ip_address FROM audit_logs WHERE table_name = 'events'"
                " AND record_id = :r ORDER BY created_at DESC LIMIT 1"
            ),
            {"r": str(mine)},
        ).one()
    assert who.user_id == organizer.user_id
    assert str(who.ip_address) == "203.0.113.7"


def test_every_bad_key_is_refused_with_the_same_message(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    good = _key(owner, admin, organizer)
    expired = _key(owner, admin, organizer, expires_at=datetime.now(UTC) + timedelta(days=1))
    revoked = _key(owner, admin, organizer)
    _auth(expired.secret)
    with owner.begin() as conn:
        conn.execute(
            text("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = :k"),
            {"k": expired.key_id},
        )
    revoke_key(admin.actor(), revoked.key_id)
    wrong = good.secret[:-1] + ("A" if good.secret[-1] != "A" else "B")
    messages = set()
    for raw in (None, "", "   ", "fk_live_nope", wrong, expired.secret, revoked.secret,
                good.secret + "x", "ü" * 10, "x" * 5000):  # fmt: skip
        with pytest.raises(Unauthenticated) as caught:
            _auth(raw)
        messages.add(caught.value.message)
        assert caught.value.code == "unauthenticated"
    assert len(messages) == 1
    assert _auth(good.secret).key_id == good.key_id


def test_revoking_ends_the_keys_session_at_once(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer)
    principal = _auth(created.secret)
    revoked = revoke_key(organizer.actor(), created.key_id)  # the owner may revoke their own
    assert revoked.status == "revoked"
    with unit_of_work(principal.actor) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() is None
    with pytest.raises(Unauthenticated):
        _auth(created.secret)
    # Another organizer cannot see it, let alone revoke it.
    with pytest.raises(NotFound):
        revoke_key(make_person(owner, ["organizer"]).actor(), created.key_id)


def test_a_deactivated_owner_stops_their_keys(owner: Engine, admin: Identity) -> None:
    person = make_person(owner, ["organizer"])
    created = _key(owner, admin, person)
    principal = _auth(created.secret)
    with owner.begin() as conn:
        conn.execute(text("UPDATE users SET status = 'inactive' WHERE id = :u"),
                     {"u": person.user_id})  # fmt: skip
    with unit_of_work(principal.actor) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() is None
    with pytest.raises(Unauthenticated):
        _auth(created.secret)


def test_erasing_the_owner_removes_their_keys(owner: Engine, admin: Identity) -> None:
    person = make_person(owner, ["organizer"])
    created = _key(owner, admin, person)
    principal = _auth(created.secret)
    with owner.begin() as conn:
        conn.execute(text("SELECT gdpr_erase_api_keys(:u)"), {"u": person.user_id})
    with pytest.raises(Unauthenticated):
        _auth(created.secret)
    with unit_of_work(principal.actor) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() is None


def test_rotation_keeps_both_keys_during_the_grace_period_then_only_the_new(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    old = _key(owner, admin, organizer, scopes=["orders:read"], rate_limit=50)
    old_principal = _auth(old.secret)
    new = rotate_key(admin.actor(), old.key_id, grace_minutes=30)
    assert new.secret != old.secret and new.scopes == ("orders:read",) and new.rate_limit == 50
    assert _auth(old.secret).key_id == old.key_id
    assert _auth(new.secret).key_id == new.key_id
    statuses = {k.key_id: k.status for k in list_keys(admin.actor(), include_revoked=True)}
    assert statuses[old.key_id] == "rotating" and statuses[new.key_id] == "active"
    with pytest.raises(Exception, match="rotat"):
        rotate_key(admin.actor(), old.key_id)
    # The grace period ends (as if 30 minutes passed).
    with owner.begin() as conn:
        conn.execute(
            text("UPDATE api_keys SET grace_until = now() - interval '1 second' WHERE id = :k"),
            {"k": old.key_id},
        )
    with pytest.raises(Unauthenticated):
        _auth(old.secret)
    with unit_of_work(old_principal.actor) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() is None
    assert _auth(new.secret).key_id == new.key_id
    visible = {k.key_id for k in list_keys(admin.actor())}
    assert new.key_id in visible and old.key_id not in visible
    with pytest.raises(PermissionDenied):
        rotate_key(organizer.actor(), new.key_id)
    with pytest.raises(ValidationError):
        rotate_key(admin.actor(), new.key_id, grace_minutes=-1)


def test_owners_list_only_their_own_keys_admins_all(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    other = make_person(owner, ["organizer"])
    mine = _key(owner, admin, organizer)
    theirs = _key(owner, admin, other)
    seen = {k.key_id for k in list_keys(organizer.actor())}
    assert mine.key_id in seen and theirs.key_id not in seen
    everyone = {k.key_id for k in list_keys(admin.actor())}
    assert {mine.key_id, theirs.key_id} <= everyone
    only = list_keys(admin.actor(), owner_id=other.user_id)
    assert [k.key_id for k in only] == [theirs.key_id]


def test_last_use_is_noted_with_its_address_at_most_once_a_minute(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer)
    _auth(created.secret, ip="198.51.100.1")
    _auth(created.secret, ip="198.51.100.2")
    (info,) = [k for k in list_keys(admin.actor()) if k.key_id == created.key_id]
    assert info.last_used_at is not None
    assert info.last_used_ip == "198.51.100.1"  # the second use within the minute wrote nothing
    with owner.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT count(*) FROM audit_logs WHERE table_name = 'api_keys'"
                " AND record_id = :k AND action = 'api_keys.update'"
            ),
            {"k": str(created.key_id)},
        ).scalar()
    assert audited == 0  # use is in the usage log, not the audit trail


def test_the_app_role_cannot_read_or_change_a_keys_hash(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    with secure_database.app.connect() as conn:
        _act_as(conn, admin)
        assert conn.execute(text("SELECT count(id) FROM api_keys")).scalar()
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("SELECT key_hash FROM api_keys"))
        conn.rollback()
        _act_as(conn, admin)
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("UPDATE api_keys SET key_hash = 'x'"))
        conn.rollback()
        _act_as(conn, admin)
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("SELECT * FROM api_rate_windows"))


def test_an_owner_may_revoke_their_key_but_not_widen_it_and_revocation_is_final(
    secure_database: SecureDatabase, admin: Identity, organizer: Identity
) -> None:
    created = _key(secure_database.owner, admin, organizer)
    changes = (
        "rate_limit = 100000",
        "scopes = ARRAY['keys:admin']",
        "expires_at = NULL, name = 'mine now'",
        "grace_until = now() + interval '1 year'",
    )
    with secure_database.app.connect() as conn:
        for change in changes:
            # Set in each transaction: a rollback takes the setting back with it.
            _act_as(conn, organizer)
            assert conn.execute(
                text("SELECT count(id) FROM api_keys WHERE id = :k"), {"k": created.key_id}
            ).scalar()
            with pytest.raises(ProgrammingError, match=r"needs api_keys\.manage"):
                conn.execute(text(f"UPDATE api_keys SET {change} WHERE id = :k"),
                             {"k": created.key_id})  # fmt: skip
            conn.rollback()
    revoke_key(organizer.actor(), created.key_id)
    with secure_database.app.connect() as conn:
        _act_as(conn, admin)
        with pytest.raises(ProgrammingError, match="cannot be restored"):
            conn.execute(
                text("UPDATE api_keys SET revoked_at = NULL, is_active = true WHERE id = :k"),
                {"k": created.key_id},
            )
    with pytest.raises(Unauthenticated):
        _auth(created.secret)


def test_require_scope_names_the_missing_scope(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    principal = _auth(_key(owner, admin, organizer, scopes=["events:read"]).secret)
    require_scope(principal, "events:read")
    with pytest.raises(PermissionDenied, match="orders:write") as caught:
        require_scope(principal, "orders:write")
    assert caught.value.field == "scope"


def test_the_rate_limit_refuses_the_request_past_the_limit(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer, rate_limit=3)
    _wait_for_fresh_minute()
    remaining = [_auth(created.secret).remaining for _ in range(3)]
    assert remaining == [2, 1, 0]
    with pytest.raises(RateLimited) as caught:
        _auth(created.secret)
    assert caught.value.code == "rate_limited"
    assert caught.value.limit == 3
    assert 1 <= caught.value.retry_after <= 60
    assert caught.value.reset_seconds == caught.value.retry_after
    # Not counted, the same key passes (the API's switch for rate limiting off).
    uncounted = authenticate(
        created.secret, method="GET", path="/", ip_address=None, user_agent=None, count=False
    )
    assert uncounted.remaining == 3 and uncounted.key_id == created.key_id


_CLIENT = r"""
import sys
from sqlalchemy import create_engine
from core.db import use_engine
from core.db.engine import app_url
from core.errors import RateLimited
from core.api_keys import authenticate

use_engine(create_engine(app_url(sys.argv[1])))
ok = limited = 0
for _ in range(int(sys.argv[3])):
    try:
        authenticate(sys.argv[2], method="GET", path="/", ip_address=None, user_agent=None)
        ok += 1
    except RateLimited:
        limited += 1
print(ok, limited)
"""


def test_two_processes_share_one_rate_limit(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer, rate_limit=25)
    url = owner.url.render_as_string(hide_password=False)
    _wait_for_fresh_minute()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CLIENT, url, created.secret, "20"],
            stdout=subprocess.PIPE,
            env=env,
            cwd=PROJECT_ROOT,
        )
        for _ in range(2)
    ]
    results = [tuple(map(int, p.communicate(timeout=120)[0].split())) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(ok for ok, _ in results) == 25
    assert sum(limited for _, limited in results) == 15


def test_usage_rows_are_written_in_batches_off_the_request_path(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer)
    flush_usage()
    started = time.perf_counter()
    for i in range(200):
        record_usage(
            key_id=created.key_id,
            method="GET",
            path="/v1/events?secret=leak",
            status=200 if i % 10 else 500,
            duration_ms=i,
            request_bytes=10,
            response_bytes=1000,
            ip_address="192.0.2.9",
            user_agent="pytest-usage",
        )
    assert time.perf_counter() - started < 0.5  # queued, not inserted one by one
    deadline = time.monotonic() + 5
    count = 0
    while time.monotonic() < deadline and count < 200:
        time.sleep(0.2)  # the flusher thread writes every half second
        with owner.connect() as conn:
            count = conn.execute(
                text("SELECT count(*) FROM api_usage_logs WHERE api_key_id = :k"),
                {"k": created.key_id},
            ).scalar()
    assert count == 200
    with owner.connect() as conn:
        paths = set(
            conn.execute(
                text("SELECT DISTINCT endpoint FROM api_usage_logs WHERE api_key_id = :k"),
                {"k": created.key_id},
            ).scalars()
        )
    assert paths == {"/v1/events"}
    now = datetime.now(UTC)
    buckets = usage_summary(
        organizer.actor(),
        key_id=created.key_id,
        since=now - timedelta(hours=1),
        until=now + timedelta(minutes=1),
    )
    assert sum(b.requests for b in buckets) == 200
    assert sum(b.errors for b in buckets) == 20 == sum(b.server_errors for b in buckets)
    assert all(b.p50_ms <= b.p95_ms for b in buckets)
    # Another organizer sees none of this key's usage.
    other = make_person(owner, ["organizer"])
    assert not usage_summary(
        other.actor(),
        key_id=created.key_id,
        since=now - timedelta(hours=1),
        until=now + timedelta(minutes=1),
    )
    with pytest.raises(ValidationError):
        usage_summary(admin.actor(), since=now, until=now - timedelta(hours=1))


def test_flush_usage_writes_what_is_queued(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer)
    for _ in range(5):
        record_usage(key_id=created.key_id, method="POST", path="/v1/orders", status=201,
                     duration_ms=3.4, request_bytes=None, response_bytes=None,
                     ip_address=None, user_agent=None)  # fmt: skip
    flush_usage()
    with owner.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM api_usage_logs WHERE api_key_id = :k"),
            {"k": created.key_id},
        ).scalar()
    assert n == 5


def test_the_endpoint_registry_follows_the_routes(owner: Engine) -> None:
    first = [
        EndpointSpec("GET", "/v1/test-events", "list_events", ("events:read",), None, "List"),
        EndpointSpec("POST", "/v1/test-orders", "place_order", ("orders:write",), 30, "Place"),
    ]
    assert register_endpoints(first) == 2
    register_endpoints([first[0]])
    with owner.connect() as conn:
        rows = {
            (r.path, r.method): r
            for r in conn.execute(
                text("SELECT * FROM rest_api_endpoints WHERE path LIKE '/v1/test-%'")
            )
        }
    assert not rows[("/v1/test-events", "GET")].is_deprecated
    assert rows[("/v1/test-events", "GET")].required_permissions == ["events:read"]
    assert rows[("/v1/test-orders", "POST")].is_deprecated
    assert rows[("/v1/test-orders", "POST")].rate_limit == 30
    with pytest.raises(ValueError):
        register_endpoints([EndpointSpec("GET", "/v1/x", "x", ("nope",))])


def test_the_command_line_creates_lists_and_revokes_keys_audited(
    owner: Engine, organizer: Identity
) -> None:
    url = owner.url.render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core", "api-key", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            timeout=120,
        )

    made = cli("create", "--owner", _email(owner, organizer), "--name", "CRM sync",
               "--scope", "events:read", "--scope", "orders:read", "--expires", "2030-01-31",
               "--rate-limit", "7")  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    raw = next(w for w in made.stdout.split() if w.startswith("fk_live_") and w.count("_") >= 3)
    principal = _auth(raw)
    assert principal.rate_limit == 7 and principal.scopes == ("events:read", "orders:read")
    listed = cli("list")
    assert listed.returncode == 0 and str(principal.key_id) in listed.stdout
    assert raw not in listed.stdout
    bad = cli("create", "--owner", _email(owner, organizer), "--name", "x", "--scope", "nope")
    assert bad.returncode != 0 and "scope" in (bad.stdout + bad.stderr)
    assert "Traceback" not in bad.stderr
    revoked = cli("revoke", str(principal.key_id))
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(Unauthenticated):
        _auth(raw)
    with owner.connect() as conn:
        actions = set(
            conn.execute(
                text(
                    "SELECT action || ':' || coalesce(user_agent, '') FROM audit_logs"
                    " WHERE table_name = 'api_keys' AND record_id = :k"
                ),
                {"k": str(principal.key_id)},
            ).scalars()
        )
    assert actions == {"api_keys.insert:python -m core api-key",
                       "api_keys.update:python -m core api-key"}  # fmt: skip


def test_the_key_is_nowhere_it_must_not_be(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer)
    secret_part = created.secret.rsplit("_", 1)[1]
    principal = _auth(created.secret)
    record_usage(key_id=principal.key_id, method="GET", path="/v1/events", status=200,
                 duration_ms=1, request_bytes=1, response_bytes=1, ip_address="192.0.2.1",
                 user_agent="pytest")  # fmt: skip
    flush_usage()
    rotated = rotate_key(admin.actor(), created.key_id, grace_minutes=1)
    revoke_key(admin.actor(), rotated.key_id)
    assert secret_part not in repr(created) and secret_part not in repr(principal)
    assert principal.actor.session_token not in repr(principal)
    assert secret_part not in str(rotated) and rotated.secret.rsplit("_", 1)[1] not in repr(rotated)
    with owner.connect() as conn:
        for table in ("audit_logs", "api_usage_logs", "api_keys", "auth_sessions", "domain_events"):
            dump = conn.execute(
                text(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t")
            ).scalar()
            for secret in (secret_part, rotated.secret.rsplit("_", 1)[1]):
                assert secret not in dump, f"a key's secret is in {table}"
            assert principal.actor.session_token not in dump, f"a key's session token in {table}"


def test_a_persons_keys_in_discovery_show_where_they_were_used_never_the_hash(
    owner: Engine, admin: Identity
) -> None:
    from core.gdpr.categories import REGISTRY

    person = make_person(owner, ["organizer"])
    created = _key(owner, admin, person, scopes=["orders:read"])
    _auth(created.secret, ip="198.51.100.77")
    (category,) = [c for c in REGISTRY.categories if c.key == "api_keys"]
    with owner.connect() as conn:
        rows = (
            conn.execute(text(REGISTRY.discovery_sql(category)), {"u": person.user_id})
            .scalars()
            .all()
        )
    assert len(rows) == 1
    assert rows[0]["last_used_ip"] == "198.51.100.77" and rows[0]["scopes"] == ["orders:read"]
    assert "key_hash" not in rows[0] and created.secret not in str(rows)


def test_a_keys_session_is_opened_once_and_renewed_when_it_runs_out(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer)
    first = _auth(created.secret)
    for _ in range(3):
        assert _auth(created.secret).actor.session_token == first.actor.session_token
    sessions = text(
        "SELECT count(*), max(expires_at) FROM auth_sessions WHERE api_key_id = :k"
        " AND method = 'api_key' AND revoked_at IS NULL"
    )
    with owner.begin() as conn:
        count, _ = conn.execute(sessions, {"k": created.key_id}).one()
        assert count == 1  # one session per key, not one per request
        conn.execute(
            text("UPDATE auth_sessions SET expires_at = now() - interval '1 second'"
                 " WHERE api_key_id = :k"),
            {"k": created.key_id},
        )  # fmt: skip
    with unit_of_work(first.actor) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() is None
    renewed = _auth(created.secret)
    with unit_of_work(renewed.actor) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() == (
            organizer.user_id
        )
    with owner.connect() as conn:
        count, until = conn.execute(sessions, {"k": created.key_id}).one()
    assert count == 1 and until > datetime.now(UTC) + timedelta(minutes=5)


# ---------------------------------------------- check_key: cached principal, leased tokens


def _check(raw: str, count: bool = True):
    return check_key(raw, ip_address="203.0.113.9", user_agent="pytest", count=count)


def _window_hits(owner: Engine, key_id) -> int:
    with owner.connect() as conn:
        return conn.execute(
            text("SELECT hits FROM api_rate_windows WHERE api_key_id = :k"), {"k": key_id}
        ).scalar_one()


def test_check_key_keeps_the_principal_and_leases_tokens_in_batches(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    created = _key(owner, admin, organizer, rate_limit=40)  # leases of 40 // 20 = 2
    clear_cache()
    _wait_for_fresh_minute()
    first = _check(created.secret)
    assert first.actor.require_session and first.key_id == created.key_id
    assert "key_digest" not in repr(first) and created.secret not in repr(first)
    assert (_window_hits(owner, created.key_id), first.remaining) == (1, 39)
    second = _check(created.secret)  # a lease of two: this request's and one more
    assert (_window_hits(owner, created.key_id), second.remaining) == (3, 38)
    third = _check(created.secret)  # spent locally: no round trip, the window unchanged
    assert (_window_hits(owner, created.key_id), third.remaining) == (3, 37)
    assert third.actor.session_token == first.actor.session_token
    with unit_of_work(third.actor) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() == (
            organizer.user_id
        )
    # Uncounted (rate limiting off), the key is still checked and nothing is leased.
    clear_cache()
    assert _check(created.secret, count=False).remaining == 40
    assert _window_hits(owner, created.key_id) == 3


@pytest.mark.parametrize("how", ["revoked", "deactivated", "expired"])
def test_a_cached_key_stops_at_its_next_unit_of_work(
    owner: Engine, admin: Identity, how: str
) -> None:
    person = make_person(owner, ["organizer"])
    created = _key(owner, admin, person, rate_limit=40)
    clear_cache()
    _wait_for_fresh_minute()
    _check(created.secret)  # a first lease of one token
    principal = _check(created.secret)  # a lease of two: one left in this process
    with owner.begin() as conn:
        conn.execute(
            text(
                {
                    "revoked": "UPDATE api_keys SET revoked_at = now() WHERE id = :k",
                    "deactivated": "UPDATE users SET status = 'inactive'"
                    " WHERE id = (SELECT user_id FROM api_keys WHERE id = :k)",
                    "expired": "UPDATE api_keys SET expires_at = now() WHERE id = :k",
                }[how]
            ),
            {"k": created.key_id},
        )
    # The process still has the principal (for up to CACHE_SECONDS) ...
    cached = _check(created.secret)
    assert cached.key_id == created.key_id
    # ... but no unit of work runs with it, pipelined or not.
    with pytest.raises(Unauthenticated), unit_of_work(cached.actor, read_only=True):
        pass
    with pytest.raises(Unauthenticated), PipelinedWork(cached.actor) as work:
        work.require("box_office.sell")
    forget(cached)
    with pytest.raises(Unauthenticated):
        _check(created.secret)
    assert principal.actor == cached.actor


def test_an_ended_dashboard_session_still_acts_as_nobody(
    owner: Engine, organizer: Identity
) -> None:
    # Only actors that require their session are refused; a signed-in person whose
    # session ended meanwhile acts as nobody, as before (the dashboard signs them out).
    person = make_person(owner, ["organizer"])
    with owner.begin() as conn:
        conn.execute(
            text(
                "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'signed_out'"
                " WHERE user_id = :u"
            ),
            {"u": person.user_id},
        )
    with unit_of_work(person.actor(), read_only=True) as uow:
        assert uow.session.execute(text("SELECT app_current_user_id()")).scalar() is None


_LEASING_CLIENT = r"""
import sys
from sqlalchemy import create_engine
from core.db import use_engine
from core.db.engine import app_url
from core.errors import RateLimited
from core.api_keys import check_key

use_engine(create_engine(app_url(sys.argv[1])))
ok = limited = 0
for _ in range(int(sys.argv[3])):
    try:
        check_key(sys.argv[2], ip_address=None, user_agent=None)
        ok += 1
    except RateLimited:
        limited += 1
print(ok, limited)
"""


def test_two_leasing_processes_together_never_exceed_the_limit(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    limit = 100  # leases of 5
    created = _key(owner, admin, organizer, rate_limit=limit)
    url = owner.url.render_as_string(hide_password=False)
    _wait_for_fresh_minute()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _LEASING_CLIENT, url, created.secret, "80"],
            stdout=subprocess.PIPE,
            env=env,
            cwd=PROJECT_ROOT,
        )
        for _ in range(2)
    ]
    results = [tuple(map(int, p.communicate(timeout=120)[0].split())) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    ok = sum(ok for ok, _ in results)
    # Never more than the limit; at most one lease per process left unspent at the end.
    assert limit - 2 * (limit // 20) <= ok <= limit, results
    assert sum(limited for _, limited in results) == 160 - ok
    assert _window_hits(owner, created.key_id) == limit
