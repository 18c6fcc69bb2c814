"""Fuzzing the running API from its own OpenAPI document: whatever schemathesis makes of
each operation, fitting the schema (positive) or breaking it (negative), the answer is
never a 5xx. The key has every scope and belongs to an admin, so requests get past the
key check into the routes and the core."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from sqlalchemy import Engine

from core.api_keys import SCOPES, create_key
from tests.api_server import api_process
from tests.apptest import make_person

# Bounded so the whole fuzz stays well under a minute: operations x modes x examples.
EXAMPLES = 6


@pytest.fixture(scope="module")
def api(owner: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    admin = make_person(owner, ["admin"])
    key = create_key(
        admin.actor(),
        owner_email=admin.email,
        name=f"fuzz {uuid.uuid4().hex[:6]}",
        scopes=tuple(SCOPES),
        rate_limit=100_000,
    ).secret
    with api_process(owner, Path(tmp_path_factory.mktemp("fuzz") / "api.log")) as url:
        yield url, key


def test_no_request_gets_a_5xx(api: tuple[str, str]) -> None:
    url, key = api
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    auth = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    seen: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(mode))
            def run(case: schemathesis.Case) -> None:
                headers = {**(case.headers or {}), **auth}
                try:
                    response = case.call(base_url=url, headers=headers, timeout=30)
                except (
                    requests.exceptions.InvalidHeader,
                    requests.exceptions.InvalidURL,
                    ValueError,
                ):
                    return  # the client would not send it
                seen[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}:"
                        f" {response.text[:300]}"
                    )

            run()
    assert not failures, "\n".join(failures[:20])
    # It reached the routes: some requests passed validation and some were refused by it.
    assert seen[200] and seen[422] and sum(seen.values()) > 100, seen
