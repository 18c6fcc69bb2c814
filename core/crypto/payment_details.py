"""Payment details (card brand, last four digits, expiry) as Fernet ciphertext.

`orders.encrypted_payment_details` / `payment_details_key_id` and
`user_profiles.encrypted_payment_info` / `payment_info_key_id` hold a Fernet token and the
`encryption_keys` row of the key version that made it. Nothing here ever holds a full card
number: `PaymentDetails` refuses one.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.audit import record_by_person
from core.auth.permissions import COMPLIANCE_MANAGE
from core.crypto.keys import resolve_key
from core.db import Actor, require_transaction, unit_of_work
from core.errors import DomainError, NotFound, PermissionDenied, ValidationError

# The key name that protects both payment columns.
PAYMENT_KEY = "payment_info"
BRANDS = ("visa", "mastercard", "amex", "discover", "maestro")
_LAST4 = re.compile(r"^\d{4}$")


class CannotDecrypt(DomainError):
    """A ciphertext the key its row names cannot open (wrong key, or damaged text)."""

    code = "cannot_decrypt"


@dataclass(frozen=True)
class PaymentDetails:
    """What is kept of a card: never the number, only what a person needs to recognise it."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int

    def __post_init__(self) -> None:
        if self.brand not in BRANDS:
            raise ValidationError(f"brand must be one of: {', '.join(BRANDS)}", field="brand")
        if not _LAST4.match(self.last4):
            raise ValidationError(
                "last4 must be exactly the card's last four digits (never the full number)",
                field="last4",
            )
        if not 1 <= self.exp_month <= 12:
            raise ValidationError("expiry month must be between 1 and 12", field="exp_month")
        if not 2000 <= self.exp_year <= 2100:
            raise ValidationError("expiry year must be between 2000 and 2100", field="exp_year")

    def label(self) -> str:
        return (
            f"{self.brand.title()} •••• {self.last4}, expires {self.exp_month:02d}/{self.exp_year}"
        )


def seal(fernet: Fernet | MultiFernet, details: PaymentDetails) -> str:
    """`details` as a Fernet token (text)."""
    return fernet.encrypt(json.dumps(asdict(details), sort_keys=True).encode()).decode()


def unseal(fernet: Fernet | MultiFernet, token: str) -> PaymentDetails:
    """The details in `token`; raises cryptography's InvalidToken for a wrong key."""
    return PaymentDetails(**json.loads(fernet.decrypt(token.encode())))


@dataclass(frozen=True)
class KeyVersion:
    key_id: uuid.UUID
    key_name: str
    key_version: int
    key_reference: str


def active_key(session: Session, key_name: str = PAYMENT_KEY) -> KeyVersion:
    """The active version of `key_name`; raises NotFound when none is registered."""
    row = session.execute(
        text("SELECT * FROM encryption_active_key(:n)"), {"n": key_name}
    ).one_or_none()
    if row is None:
        raise NotFound(f"No active encryption key named {key_name} is registered.")
    return KeyVersion(row.id, key_name, row.key_version, row.key_reference)


def key_version(session: Session, key_id: uuid.UUID) -> KeyVersion:
    """The registered key version `key_id`; raises NotFound."""
    row = session.execute(text("SELECT * FROM encryption_key_for(:i)"), {"i": key_id}).one_or_none()
    if row is None:
        raise NotFound(f"Encryption key {key_id} is not registered.")
    return KeyVersion(key_id, row.key_name, row.key_version, row.key_reference)


def encrypt_payment_details(
    session: Session, details: PaymentDetails, key_name: str = PAYMENT_KEY
) -> tuple[str, uuid.UUID]:
    """(token, key id) for `details` under the active version of `key_name`, inside the
    caller's transaction. Raises NotFound (no key registered), KeyNotConfigured."""
    require_transaction(session)
    key = active_key(session, key_name)
    return seal(resolve_key(key.key_reference), details), key.key_id


def decrypt_payment_details(
    session: Session, token: str, key_id: uuid.UUID, *, where: str = "this row"
) -> PaymentDetails:
    """Open `token` with the key version `key_id` names, inside the caller's transaction.

    Raises KeyNotConfigured (the key is not in the configuration), CannotDecrypt naming
    `where` (the key does not open the token).
    """
    require_transaction(session)
    key = key_version(session, key_id)
    try:
        return unseal(resolve_key(key.key_reference), token)
    except InvalidToken as exc:
        raise CannotDecrypt(
            f"The payment details of {where} cannot be decrypted with {key.key_name}"
            f" version {key.key_version} ({key.key_reference}): the configured key is not the"
            " one that encrypted them."
        ) from exc


@dataclass(frozen=True)
class PaymentDetailsView:
    """What a person may see: the details, or only that some are on file."""

    on_file: bool
    details: PaymentDetails | None
    display: str


_HIDDEN = "card on file (•••• hidden)"


def _owner_and_cipher(
    session: Session, order_id: uuid.UUID | None, user_id: uuid.UUID | None
) -> tuple[uuid.UUID | None, str | None, uuid.UUID | None, str]:
    if (order_id is None) == (user_id is None):
        raise ValueError("give exactly one of order_id or user_id")
    if order_id is not None:
        row = session.execute(
            text(
                "SELECT user_id, encrypted_payment_details AS token,"
                " payment_details_key_id AS key_id, order_number FROM orders WHERE id = :i"
            ),
            {"i": order_id},
        ).one_or_none()
        if row is None:
            raise NotFound("No such order.")
        return row.user_id, row.token, row.key_id, f"order {row.order_number}"
    row = session.execute(
        text(
            "SELECT encrypted_payment_info AS token, payment_info_key_id AS key_id"
            " FROM user_profiles WHERE user_id = :u"
        ),
        {"u": user_id},
    ).one_or_none()
    if row is None:
        return user_id, None, None, f"the profile of user {user_id}"
    return user_id, row.token, row.key_id, f"the profile of user {user_id}"


def view_payment_details(
    actor: Actor, *, order_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
) -> PaymentDetailsView:
    """The payment details of an order or a person's profile, decrypted for the person
    they belong to and for holders of compliance.manage; an order's are masked for anyone
    else, a profile's refused.

    Decrypting writes an audit row. Raises PermissionDenied (someone else's profile),
    NotFound, KeyNotConfigured, CannotDecrypt.
    """
    with unit_of_work(actor) as uow:
        if user_id is not None and actor.user_id != user_id:
            # A profile is private (row-level security hides it): no masked view to give.
            uow.require(COMPLIANCE_MANAGE)
        owner, token, key_id, where = _owner_and_cipher(uow.session, order_id, user_id)
        if token is None or key_id is None:
            return PaymentDetailsView(False, None, "no payment details on file")
        allowed = actor.user_id is not None and actor.user_id == owner
        if not allowed:
            try:
                uow.require(COMPLIANCE_MANAGE)
                allowed = True
            except PermissionDenied:
                allowed = False
        if not allowed:
            return PaymentDetailsView(True, None, _HIDDEN)
        details = decrypt_payment_details(uow.session, token, key_id, where=where)
        record_by_person(
            uow.session,
            actor,
            "payment_details.decrypted",
            order_id or user_id,  # type: ignore[arg-type]
            new={"what": where},
            table="orders" if order_id else "user_profiles",
        )
        uow.commit()
        return PaymentDetailsView(True, details, details.label())


def save_profile_payment_details(actor: Actor, user_id: uuid.UUID, details: PaymentDetails) -> None:
    """Encrypt `details` under the active payment key into the profile of `user_id`.

    Only the person themselves or a holder of compliance.manage. Raises PermissionDenied,
    NotFound (no profile, no key), KeyNotConfigured.
    """
    with unit_of_work(actor) as uow:
        if actor.user_id != user_id:
            uow.require(COMPLIANCE_MANAGE)
        token, key_id = encrypt_payment_details(uow.session, details)
        changed = uow.session.execute(
            text(
                "UPDATE user_profiles SET encrypted_payment_info = :t, payment_info_key_id = :k"
                " WHERE user_id = :u"
            ),
            {"t": token, "k": key_id, "u": user_id},
        ).rowcount
        if not changed:
            raise NotFound("This person has no profile to hold payment details.")
        record_by_person(
            uow.session,
            actor,
            "user_profiles.payment_info_saved",
            user_id,
            new={"payment_info": "encrypted", "key_id": str(key_id)},
            table="user_profiles",
        )
        uow.commit()
