"""My account: who I am, my roles, and changing my password."""

from __future__ import annotations

import streamlit as st

from dashboard import session
from dashboard.text import md
from dashboard.views import change_password_form

identity = session.signed_in()

st.title("My account")
left, right = st.columns(2)
left.markdown(f"**{md(identity.full_name)}**  \n{md(identity.email)}")
right.markdown("**Roles:** " + (", ".join(sorted(identity.roles)) or "none"))

if session.auth_mode() == "oidc":
    st.info("Your password is managed by your company's identity provider.")
else:
    st.subheader("Change password")
    if change_password_form(identity, key="account_change"):
        st.success("Your password is changed.")
