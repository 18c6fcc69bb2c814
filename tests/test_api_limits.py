"""Rate limits that hold across two API processes, and the body size limit.

A key allowed N requests a minute gets N answers in total from the two processes
together, then 429 with Retry-After and the RateLimit-* headers from either."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from core.api_keys import create_key
from tests.api_server import api_process
from tests.apptest import make_person

LIMIT = 6


@pytest.fixture(scope="module")
def two_apis(owner: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    logs = tmp_path_factory.mktemp("limits")
    with (
        api_process(owner, Path(logs / "a.log")) as a,
        api_process(owner, Path(logs / "b.log")) as b,
    ):
        yield a, b


def _key(owner: Engine, limit: int) -> str:
    organizer = make_person(owner, ["organizer"])
    admin = make_person(owner, ["admin"])
    return create_key(
        admin.actor(),
        owner_email=organizer.email,
        name=f"limited {uuid.uuid4().hex[:6]}",
        scopes=("events:read",),
        rate_limit=limit,
    ).secret


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
