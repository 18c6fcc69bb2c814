"""Set a new password with a reset token: open to everyone, signed in or not."""

from __future__ import annotations

from dashboard.views import reset_password_view

reset_password_view()
