"""API keys, for admins (scope keys:admin): create (the secret shown once), list, revoke,
rotate. core.api_keys decides; the key's owner must be an admin too."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StringConstraints

from api.auth import Requires, actor_of
from api.models import Input, Output
from api.problems import responses

router = APIRouter(
    prefix="/api-keys", tags=["api-keys"], responses=responses(401, 403, 404, 409, 422, 429, 503)
)
ADMIN = Requires("keys:admin")
Scope = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,30}:[a-z_]{1,30}$")]


class KeyIn(Input):
    owner_email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    scopes: list[Scope] = Field(min_length=1, max_length=20)
    expires_at: datetime | None = None
    rate_limit: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        None, description="requests per minute; the default when left out"
    )


class CreatedKey(Output):
    key_id: uuid.UUID
    prefix: str
    name: str
    owner_id: uuid.UUID
    scopes: list[str]
    rate_limit: int
    expires_at: datetime | None
    secret: str = Field(description="the whole key, shown once: store it now")


class Key(Output):
    key_id: uuid.UUID
    name: str
    prefix: str
    owner_id: uuid.UUID | None
    owner_email: str | None
    scopes: list[str]
    rate_limit: int
    status: str = Field(description="active, rotating, replaced, expired or revoked")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    revoked_at: datetime | None
    grace_until: datetime | None = Field(description="a rotated key works until then")
    rotated_from_id: uuid.UUID | None


class KeyList(Output):
    data: list[Key]


@router.get("", response_model=KeyList, summary="List API keys")
def list_keys(
    principal: Annotated[object, Depends(ADMIN)], include_revoked: bool = False
) -> KeyList:
    from core.api_keys import list_keys as listed

    keys = listed(actor_of(principal), include_revoked=include_revoked)
    return KeyList(data=[Key.model_validate(k) for k in keys])


@router.post("", response_model=CreatedKey, status_code=201, summary="Create an API key")
def create_key(body: KeyIn, principal: Annotated[object, Depends(ADMIN)]) -> CreatedKey:
    from core.api_keys import create_key as create

    created = create(
        actor_of(principal),
        owner_email=body.owner_email,
        name=body.name,
        scopes=tuple(body.scopes),
        expires_at=body.expires_at,
        rate_limit=body.rate_limit,
    )
    return CreatedKey.model_validate(created)


@router.post("/{key_id}/revoke", response_model=Key, summary="Revoke an API key")
def revoke_key(key_id: uuid.UUID, principal: Annotated[object, Depends(ADMIN)]) -> Key:
    from core.api_keys import revoke_key as revoke

    return Key.model_validate(revoke(actor_of(principal), key_id))


@router.post(
    "/{key_id}/rotate", response_model=CreatedKey, status_code=201, summary="Rotate an API key"
)
def rotate_key(
    key_id: uuid.UUID,
    principal: Annotated[object, Depends(ADMIN)],
    grace_minutes: Annotated[int, Query(ge=0, le=7 * 24 * 60)] = 60,
) -> CreatedKey:
    """A new key with the same name, owner and scopes; the old one keeps working for
    `grace_minutes`."""
    from core.api_keys import rotate_key as rotate

    return CreatedKey.model_validate(
        rotate(actor_of(principal), key_id, grace_minutes=grace_minutes)
    )
