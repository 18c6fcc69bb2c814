"""The dispatcher's knobs, from the environment (read at each use, so tests can set them).

- FASHIONISTAS_WEBHOOKS_ALLOW_PRIVATE=1: allow endpoint URLs that resolve to private,
  loopback or link-local addresses (tests, a local receiver); off by default.
- FASHIONISTAS_WEBHOOKS_RETRY_SCHEDULE: seconds to wait after each failed attempt, comma
  separated; the default spreads 15 attempts over about three days.
- FASHIONISTAS_WEBHOOKS_LEASE_SECONDS: how long a claimed attempt is a worker's before
  another may take it over (default 60, well above the request timeout).
- FASHIONISTAS_WEBHOOKS_TIMEOUT_SECONDS: the whole request's timeout (default 10).
- FASHIONISTAS_WEBHOOKS_DISABLE_AFTER_SECONDS: an endpoint failing continuously this long
  is disabled (default five days).
- FASHIONISTAS_WEBHOOKS_THREADS: parallel requests per dispatching worker (default 16).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# After attempt n fails, wait DEFAULT_SCHEDULE[n - 1] (with jitter); after the last, give
# up. 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, then 12 h five times: the 15th
# attempt comes about 3.2 days after the first.
DEFAULT_SCHEDULE = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800) + (43200,) * 5
DEFAULT_LEASE = 60.0
DEFAULT_TIMEOUT = 10.0
DEFAULT_DISABLE_AFTER = 5 * 24 * 3600.0
DEFAULT_THREADS = 16
# Share of a delay drawn at random either way, so endpoints that failed together do not
# all come back at the same instant.
JITTER = 0.2
# Response bodies kept per attempt.
BODY_CAP = 2048
# Attempts kept per delivery (the oldest go first).
ATTEMPTS_KEPT = 20


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class DispatchConfig:
    schedule: tuple[float, ...]
    lease_seconds: float
    timeout_seconds: float
    disable_after_seconds: float
    threads: int

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    @classmethod
    def from_env(cls) -> DispatchConfig:
        raw = os.environ.get("FASHIONISTAS_WEBHOOKS_RETRY_SCHEDULE")
        schedule = tuple(float(p) for p in raw.split(",") if p.strip()) if raw else DEFAULT_SCHEDULE
        return cls(
            schedule=tuple(float(s) for s in schedule),
            lease_seconds=_float("FASHIONISTAS_WEBHOOKS_LEASE_SECONDS", DEFAULT_LEASE),
            timeout_seconds=_float("FASHIONISTAS_WEBHOOKS_TIMEOUT_SECONDS", DEFAULT_TIMEOUT),
            disable_after_seconds=_float(
                "FASHIONISTAS_WEBHOOKS_DISABLE_AFTER_SECONDS", DEFAULT_DISABLE_AFTER
            ),
            threads=int(_float("FASHIONISTAS_WEBHOOKS_THREADS", DEFAULT_THREADS)),
        )


def allow_private() -> bool:
    return os.environ.get("FASHIONISTAS_WEBHOOKS_ALLOW_PRIVATE", "") in ("1", "true", "yes")
