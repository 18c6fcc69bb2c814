"""Authentication and authorisation: who is signed in, and what they may do.

Pages call these services and keep the returned Identity in their session state; every
other core service checks permissions itself with `require`, and row-level security in
the database backs both, believing only the sign-in session the Identity carries (see
docs/SECURITY.md).
"""

from core.auth.identity import Identity, issue_identity, load_identity, require
from core.auth.sessions import end_session, why_ended
from core.auth.signin import (
    change_password,
    ensure_first_admin,
    reset_password,
    sign_in_with_oidc,
    sign_in_with_password,
)
from core.auth.throttles import Throttle, lift_throttle, list_throttles
from core.auth.users import (
    Invitation,
    UserSummary,
    deactivate_user,
    invite_user,
    issue_reset_token,
    list_users,
    reactivate_user,
    set_roles,
)
from core.errors import (
    PermissionDenied,
    ResetTokenInvalid,
    SignInFailed,
    SignInThrottled,
    UnknownIdentity,
)

__all__ = [
    "Identity",
    "Invitation",
    "PermissionDenied",
    "ResetTokenInvalid",
    "SignInFailed",
    "SignInThrottled",
    "Throttle",
    "UnknownIdentity",
    "UserSummary",
    "change_password",
    "deactivate_user",
    "end_session",
    "ensure_first_admin",
    "invite_user",
    "issue_identity",
    "issue_reset_token",
    "lift_throttle",
    "list_throttles",
    "list_users",
    "load_identity",
    "reactivate_user",
    "require",
    "reset_password",
    "set_roles",
    "sign_in_with_oidc",
    "sign_in_with_password",
    "why_ended",
]
