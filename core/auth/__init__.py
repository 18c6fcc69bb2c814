"""Authentication and authorisation: who is signed in, and what they may do.

Pages call these services and keep the returned Identity in their session state; every
other core service checks permissions itself with `require`, and row-level security in
the database backs both (see docs/SECURITY.md).
"""

from core.auth.identity import Identity, load_identity, require
from core.auth.signin import (
    change_password,
    ensure_first_admin,
    request_password_reset,
    reset_password,
    sign_in_with_oidc,
    sign_in_with_password,
)
from core.auth.users import (
    Invitation,
    UserSummary,
    deactivate_user,
    invite_user,
    list_users,
    reactivate_user,
    set_roles,
    unlock_user,
)
from core.errors import (
    AccountLocked,
    PermissionDenied,
    ResetTokenInvalid,
    SignInFailed,
    UnknownIdentity,
)

__all__ = [
    "AccountLocked",
    "Identity",
    "Invitation",
    "PermissionDenied",
    "ResetTokenInvalid",
    "SignInFailed",
    "UnknownIdentity",
    "UserSummary",
    "change_password",
    "deactivate_user",
    "ensure_first_admin",
    "invite_user",
    "list_users",
    "load_identity",
    "reactivate_user",
    "request_password_reset",
    "require",
    "reset_password",
    "set_roles",
    "sign_in_with_oidc",
    "sign_in_with_password",
    "unlock_user",
]
