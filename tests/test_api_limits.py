"""Rate limits that hold across two API processes, and the body size limit.

A key allowed N requests a minute gets N answers in total from the two processes
together (each leases tokens from the shared window in batches), then 429 with Retry-After
and the RateLimit-* headers from either. A key revoked while a process keeps it is
refused at its very next request."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from core.api_keys import CreatedKey, create_key
from tests.api_server import api_process
from tests.apptest import make_person

LIMIT = 6


def _wait_for_fresh_minute() -> None:
    # Rate windows are calendar minutes: keep a counting test inside one.
    if datetime.now(UTC).second >= 40:
        time.sleep(61 - datetime.now(UTC).second)


@pytest.fixture(scope="module")
def two_apis(owner: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    logs = tmp_path_factory.mktemp("limits")
    with (
        api_process(owner, Path(logs / "a.log")) as a,
        api_process(owner, Path(logs / "b.log")) as b,
    ):
        yield a, b


def _key(owner: Engine, limit: int) -> str:
    return _created(owner, limit).secret


def _created(owner: Engine, limit: int) -> CreatedKey:
    organizer = make_person(owner, ["organizer"])
    admin = make_person(owner, ["admin"])
    return create_key(
        admin.actor(),
        owner_email=organizer.email,
        name=f"limited {uuid.uuid4().hex[:6]}",
        scopes=("events:read",),
        rate_limit=limit,
    )


def test_the_rate_limit_holds_across_two_processes(
    two_apis: tuple[str, str], owner: Engine
) -> None:
    key = _key(owner, LIMIT)
    headers = {"Authorization": f"Bearer {key}"}
    answers = [
        httpx.get(f"{two_apis[i % 2]}/v1/venues", headers=headers, timeout=30)
        for i in range(LIMIT + 4)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses[:LIMIT] == [200] * LIMIT, [a.text for a in answers]
    assert statuses[LIMIT:] == [429] * 4, statuses
    for answer in answers[:LIMIT]:
        assert int(answer.headers["ratelimit-limit"]) == LIMIT
    remaining = [int(a.headers["ratelimit-remaining"]) for a in answers[:LIMIT]]
    assert remaining == sorted(remaining, reverse=True) and remaining[-1] == 0
    for refused in answers[LIMIT:]:
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["ratelimit-remaining"] == "0"
        assert int(refused.headers["ratelimit-reset"]) >= 1
    # Both processes refused: the count lives in the database, not in one process.
    assert {a.url.port for a in answers[LIMIT:]} == {
        httpx.URL(two_apis[0]).port,
        httpx.URL(two_apis[1]).port,
    }


def test_bodies_over_64_kib_are_refused(two_apis: tuple[str, str], owner: Engine) -> None:
    url = two_apis[0]
    headers = {"Authorization": f"Bearer {_key(owner, 1000)}", "Content-Type": "application/json"}
    declared = httpx.post(f"{url}/v1/holds", content=b" " * (64 * 1024 + 1), headers=headers)
    assert declared.status_code == 413 and declared.json()["code"] == "too_large"

    def chunks() -> Iterator[bytes]:
        for _ in range(80):
            yield b" " * 1024

    streamed = httpx.post(f"{url}/v1/holds", content=chunks(), headers=headers)
    assert streamed.status_code == 413 and streamed.json()["code"] == "too_large"
    just_under = httpx.post(f"{url}/v1/holds", content=b" " * 1000 + b"{}", headers=headers)
    assert just_under.status_code in (403, 422)


def test_a_lying_content_length_is_not_a_5xx(two_apis: tuple[str, str]) -> None:
    host, port = httpx.URL(two_apis[0]).host, httpx.URL(two_apis[0]).port
    with socket.create_connection((host, port or 80), timeout=10) as conn:
        conn.sendall(
            b"POST /v1/holds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: nine\r\n\r\n{}"
        )
        status = conn.recv(100).split(b" ")[1]
    assert status.startswith(b"4")


def test_a_higher_limit_leased_in_batches_still_holds_across_two_processes(
    two_apis: tuple[str, str], owner: Engine
) -> None:
    limit = 60  # each process leases 60 // 20 = 3 tokens at a time
    _wait_for_fresh_minute()
    key = _key(owner, limit)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=30) as a, httpx.Client(timeout=30) as b:
        answers = [
            (a if i % 2 else b).get(f"{two_apis[i % 2]}/v1/venues", headers=headers)
            for i in range(limit + 10)
        ]
    statuses = [r.status_code for r in answers]
    ok = statuses.count(200)
    # Never more than the limit; at most one lease per process unspent.
    assert limit - 2 * 3 <= ok <= limit, statuses
    assert set(statuses) == {200, 429}
    # Each process answers 200 until both the window and its own tokens are spent, then
    # only 429 (the window does not refill within its minute).
    for mine in (statuses[0::2], statuses[1::2]):
        first_refusal = mine.index(429)
        assert set(mine[:first_refusal]) == {200} and set(mine[first_refusal:]) == {429}
    remaining = [int(r.headers["ratelimit-remaining"]) for r in answers if r.status_code == 200]
    assert remaining[0] >= limit - 4 and remaining[-1] <= 3


def test_revoking_a_cached_key_refuses_its_very_next_request(
    two_apis: tuple[str, str], owner: Engine
) -> None:
    created = _created(owner, 1000)  # leases of 50: the process answers from memory
    key = created.secret
    headers = {"Authorization": f"Bearer {key}"}
    url = two_apis[0]
    with httpx.Client(timeout=30) as client:
        for _ in range(3):
            assert client.get(f"{url}/v1/venues", headers=headers).status_code == 200
        with owner.begin() as conn:
            conn.execute(
                text("UPDATE api_keys SET revoked_at = now() WHERE id = :k"),
                {"k": created.key_id},
            )
        refused = client.get(f"{url}/v1/venues", headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "unauthenticated"
        assert "ratelimit-limit" not in refused.headers
        again = client.get(f"{url}/v1/venues", headers=headers)
        assert again.status_code == 401 and again.json()["code"] == "unauthenticated"
