"""Encryption of payment details in Python, with keys from configuration (never the
database), and the key registry with rotation. See docs/ENCRYPTION.md."""

from core.crypto.keys import KeyNotConfigured, ensure_local_key, new_key, resolve_key
from core.crypto.payment_details import (
    PAYMENT_KEY,
    CannotDecrypt,
    PaymentDetails,
    PaymentDetailsView,
    decrypt_payment_details,
    encrypt_payment_details,
    save_profile_payment_details,
    view_payment_details,
)
from core.crypto.rotation import (
    KeyVersionRow,
    RotationReport,
    list_key_versions,
    register_key,
    rotate_key,
)

__all__ = [
    "PAYMENT_KEY",
    "CannotDecrypt",
    "KeyNotConfigured",
    "KeyVersionRow",
    "PaymentDetails",
    "PaymentDetailsView",
    "RotationReport",
    "decrypt_payment_details",
    "encrypt_payment_details",
    "ensure_local_key",
    "list_key_versions",
    "new_key",
    "register_key",
    "resolve_key",
    "rotate_key",
    "save_profile_payment_details",
    "view_payment_details",
]
