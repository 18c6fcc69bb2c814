"""Demo payment details: real Fernet ciphertext of made-up cards (brand, last four digits,
expiry; never a card number) under the active demo key.

The key is the configured one for the active `payment_info` version's reference; in the
no-configuration local setup core/crypto generates it into the local keys folder (and
says so loudly). Card fields come from the row's own bits, not the random stream, so the
rest of the demo world stays as it was.
"""

from __future__ import annotations

from cryptography.fernet import Fernet

from core.crypto.keys import ensure_local_key, resolve_key
from core.crypto.payment_details import BRANDS, PaymentDetails, seal
from core.demo.compliance import KEYS
from core.demo.world import World

_CIPHER = "payment_cipher"


def _cipher(world: World) -> tuple[Fernet, str]:
    if _CIPHER not in world.extras:
        index = next(i for i, k in enumerate(KEYS) if k[0] == "payment_info" and k[3])
        reference = KEYS[index][2]
        ensure_local_key(reference)
        world.extras[_CIPHER] = (resolve_key(reference), world.encryption_key_ids[index])
    return world.extras[_CIPHER]


def demo_card(world: World, bits: int) -> tuple[str, str]:
    """(ciphertext, key id) of a made-up card derived from `bits`."""
    fernet, key_id = _cipher(world)
    details = PaymentDetails(
        brand=BRANDS[bits % len(BRANDS)],
        last4=f"{(bits >> 8) % 10_000:04d}",
        exp_month=(bits >> 24) % 12 + 1,
        exp_year=world.clock.anchor.year + (bits >> 32) % 5,
    )
    return seal(fernet, details), key_id
