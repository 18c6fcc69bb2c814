"""Access and portability: a zip bundle of everything discovery finds, built by a job.

The bundle holds, per category, `<category>.json` and `<category>.csv`, a `manifest.json`
(request, time, counts, fingerprint) and a `README.txt`. It is written to the export
folder (FASHIONISTAS_EXPORT_DIR, default `.data/exports`, outside git) under a name made
of ids only; the request records the job, the file, the time and the fingerprint.
An erasure deletes the person's bundles.
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from core.auth.permissions import COMPLIANCE_MANAGE
from core.config import Settings
from core.db import Actor, unit_of_work
from core.errors import Conflict, NotFound
from core.gdpr.discovery import TITLES, Discovery, discover, subject_of_request
from core.gdpr.requests import load_request
from core.jobs import JobContext, enqueue
from core.spreadsheets import csv_text

EXPORT_JOB = "gdpr.export"

README = """Personal data export
====================

This archive holds every record the Fashionistas platform keeps about one person, found
on {generated} (UTC) for data-subject request {request}.

Each category is there twice: <category>.json (the records as JSON) and <category>.csv
(one row per record; nested values as JSON text). manifest.json lists the categories,
their record counts and a fingerprint of the data.

Categories:
{categories}
"""


def export_dir() -> Path:
    return Settings.from_env().export_dir


def request_export(actor: Actor, request_id: uuid.UUID) -> uuid.UUID:
    """Queue the export job for a request being processed; returns the job id (the live
    one when an export is already queued or running).

    Raises Conflict unless the request is processing, NotFound for an unknown request.
    """
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        request = load_request(uow.session, request_id, lock=True)
        if request.summary.status != "processing":
            raise Conflict("Start processing the request (after verifying the identity) first.")
        job_id = enqueue(
            uow.session,
            EXPORT_JOB,
            {"request_id": request_id},
            created_by=actor.user_id,
            dedupe_key=f"{EXPORT_JOB}:{request_id}",
            priority=50,
        )
        uow.session.execute(
            text("UPDATE data_subject_requests SET export_job_id = :j WHERE id = :id"),
            {"j": job_id, "id": request_id},
        )
        uow.commit()
    return job_id


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return csv_text(
        columns,
        (
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                for k, v in row.items()
            }
            for row in rows
        ),
    )


def write_bundle(path: Path, request_id: uuid.UUID, found: Discovery) -> None:
    """Write the zip for `found` to `path` (atomically: a temporary file, then renamed)."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    manifest = {
        "request_id": str(request_id),
        "generated_at": generated,
        "fingerprint": found.fingerprint,
        "categories": {
            name: {"title": TITLES[name], "records": n} for name, n in found.counts.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(
            "README.txt",
            README.format(
                generated=generated,
                request=request_id,
                categories="\n".join(
                    f"- {name}: {TITLES[name]} ({n} records)" for name, n in found.counts.items()
                ),
            ),
        )
        bundle.writestr("manifest.json", json.dumps(manifest, indent=2))
        for name, rows in found.categories.items():
            bundle.writestr(
                f"{name}.json", json.dumps(rows, indent=2, ensure_ascii=False, default=str)
            )
            bundle.writestr(f"{name}.csv", _csv(rows))
    os.replace(partial, path)


def run_export(ctx: JobContext) -> dict[str, Any]:
    """The job: discover (progress per category), write the bundle, record it on the
    request. Runs as the person who queued it."""
    request_id = uuid.UUID(str(ctx.payload["request_id"]))
    with unit_of_work(ctx.actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        if load_request(uow.session, request_id).summary.status != "processing":
            raise Conflict("The request is no longer being processed; nothing was exported.")
        subject = subject_of_request(uow.session, request_id)

        def step(index: int, total: int, title: str) -> None:
            ctx.progress(90 * index / total, f"Collecting {title.lower()}")

        found = discover(uow.session, subject, progress=step)
    ctx.progress(92, "Writing the bundle")
    name = f"{request_id}-{ctx.job_id}.zip"
    path = export_dir() / name
    write_bundle(path, request_id, found)
    with unit_of_work(ctx.actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        # The request's row lock waits for an erasure of the person running now; a bundle
        # written while they were being erased must not outlive them.
        request = load_request(uow.session, request_id, lock=True)
        still = subject_of_request(uow.session, request_id)
        if request.summary.status != "processing" or (subject.emails and not still.emails):
            path.unlink(missing_ok=True)
            raise Conflict(
                "The person was erased, or the request closed, while the export ran;"
                " nothing was exported."
            )
        uow.session.execute(
            text(
                "UPDATE data_subject_requests SET export_job_id = :j, export_file = :f,"
                " exported_at = now(), export_fingerprint = :fp WHERE id = :id"
            ),
            {"j": ctx.job_id, "f": name, "fp": found.fingerprint, "id": request_id},
        )
        uow.commit()
    return {"file": name, "fingerprint": found.fingerprint, "records": sum(found.counts.values())}


def export_bundle(actor: Actor, request_id: uuid.UUID) -> tuple[str, bytes]:
    """The request's finished bundle: (file name, zip bytes).

    Raises NotFound when there is none (never exported, or erased since).
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        request = load_request(uow.session, request_id)
    if not request.export_file:
        raise NotFound("There is no export for this request yet.")
    if Path(request.export_file).name != request.export_file:
        raise NotFound("The export file name is not valid; run the export again.")
    path = export_dir() / request.export_file
    if not path.is_file():
        raise NotFound("The export file is gone; run the export again.")
    return f"personal-data-{request_id}.zip", path.read_bytes()
