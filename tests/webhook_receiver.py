"""A webhook receiver process for tests and bench/webhooks.py.

    python -m tests.webhook_receiver --port 0 --secrets FILE [--delay SECONDS] [--status N]

It prints `PORT <n>` once listening. Every POST is verified with the standardwebhooks
library against each secret in FILE (one per line, reread on every request, so a test can
add a rotated secret while it runs); a valid one is answered with --status (default 204),
an invalid one with 401. Every request is recorded, valid or not; GET /_deliveries returns
them as JSON: webhook-id, timestamp, signature count, which secrets verified, the parsed
body, the path and the time it arrived; POST /_reset forgets them. `--delay` holds each
answer back (a worker can be killed while it waits). GET /_health answers 200.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, secrets: Path, delay: float, status: int):
        super().__init__(("127.0.0.1", port), Handler)
        self.secrets = secrets
        self.delay = delay
        self.status = status
        self.lock = threading.Lock()
        self.deliveries: list[dict] = []

    def verify(self, body: bytes, headers: dict[str, str]) -> list[int]:
        verified = []
        lines = self.secrets.read_text().split() if self.secrets.exists() else []
        for index, secret in enumerate(lines):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(index)
        return verified


class Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _answer(self, status: int, body: bytes = b"", kind: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/_deliveries"):
            with self.server.lock:
                data = json.dumps(self.server.deliveries).encode()
            self._answer(200, data, "application/json")
        elif self.path.startswith("/_health"):
            self._answer(200, b"ok")
        else:
            self._answer(404)

    def do_POST(self) -> None:
        if self.path.startswith("/_reset"):
            with self.server.lock:
                self.server.deliveries.clear()
            self._answer(200, b"ok")
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        arrived = time.time()
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = self.server.verify(body, headers)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        record = {
            "webhook_id": headers.get("webhook-id"),
            "timestamp": headers.get("webhook-timestamp"),
            "signatures": len((headers.get("webhook-signature") or "").split()),
            "verified": verified,
            "valid": bool(verified),
            "body": parsed,
            "path": self.path,
            "received_at": arrived,
        }
        if self.server.delay:
            time.sleep(self.server.delay)
        with self.server.lock:
            self.server.deliveries.append(record)
        if verified:
            self._answer(self.server.status, b"" if self.server.status == 204 else b"thanks")
        else:
            self._answer(401, b"bad signature")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secrets", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--status", type=int, default=204)
    args = parser.parse_args(argv)
    server = Receiver(args.port, args.secrets, args.delay, args.status)
    print(f"PORT {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
