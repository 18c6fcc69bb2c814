"""The Data requests page through the real app shell (AppTest), as an admin."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from core.auth import Identity
from core.gdpr.export import EXPORT_JOB
from core.gdpr.requests import RequestDraft, create_request, start_processing
from core.jobs import Worker
from core.jobs.registry import load_handlers
from dashboard import session
from tests.apptest import APP, make_person, messages, open_page, shown
from tests.conftest import SecureDatabase
from tests.test_gdpr import APP_POOL_SIZE, admin, exports, plant_subject  # noqa: F401

PAGE = "data_requests.py"


def test_the_work_list_shows_deadlines_filters_and_a_csv(
    secure_database: SecureDatabase,
    admin: Identity,  # noqa: F811
) -> None:
    at = open_page(PAGE, admin)
    assert not at.exception
    assert at.title[0].value == "Data requests"
    overdue = next(m for m in at.metric if m.label == "Overdue")
    assert int(overdue.value) >= 1  # the demo always has one overdue request
    assert at.dataframe and at.get("download_button")
    at.selectbox(key="dsr_due").select("Overdue").run()
    assert not at.exception
    assert "past its one-month deadline" in messages(at)
    at.text_input(key="dsr_search").input("no-such-person-anywhere").run()
    assert "No requests match" in messages(at)


def test_organizers_cannot_open_it(secure_database: SecureDatabase) -> None:
    organizer = make_person(secure_database.owner, ["organizer"])
    at = open_page(PAGE, organizer)
    assert not at.exception
    assert "don't have access" in " ".join(str(m.value) for m in at.markdown) + messages(at)


def test_intake_export_download_and_erasure_on_the_page(
    secure_database: SecureDatabase,
    admin: Identity,  # noqa: F811
) -> None:
    person = plant_subject(secure_database.owner)
    at = open_page(PAGE, admin)
    at.text_input(key="dsr_new_email").input("not an email")
    at.button(key="dsr_new_submit").click().run()
    assert "subject email must look like" in messages(at)

    at.text_input(key="dsr_new_email").input(person.email)
    at.selectbox(key="dsr_new_type").select("erasure")
    at.selectbox(key="dsr_new_method").select("id_document")
    at.button(key="dsr_new_submit").click().run()
    assert not at.exception
    assert f"Request recorded for {person.email}" in messages(at)
    assert shown(at.subheader[0].value) == f"Erasure request · {person.email}"

    # Erasing before processing is not offered; starting is.
    assert not [b for b in at.button if b.key == "dsr_erase_ask"]
    at.button(key="dsr_start").click().run()
    assert "being processed" in messages(at)

    at.button(key="dsr_erase_ask").click().run()
    at.button(key="dsr_erase_yes").click().run()
    assert "Export the person's data first" in messages(at)

    at.button(key="dsr_export").click().run()
    assert "The export is queued." in messages(at)
    progress = at.get("progress")
    assert progress and "Queued" in progress[0].proto.text
    load_handlers()
    assert Worker(job_types=[EXPORT_JOB]).run_until_idle() == 1
    at.run()
    assert not at.exception
    assert not at.get("progress")
    download = at.get("download_button")
    assert any("bundle" in d.proto.label for d in download)

    at.button(key="dsr_erase_ask").click().run()
    assert "cannot be undone" in messages(at)
    at.button(key="dsr_erase_yes").click().run()
    assert not at.exception
    assert "The person is erased" in messages(at), messages(at)
    with secure_database.owner.connect() as c:
        left = c.execute(text("SELECT * FROM gdpr_scan(:t)"), {"t": [person.email]}).all()
    assert left == []


def _open_request(identity: Identity, request_id: uuid.UUID) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[session.IDENTITY] = identity
    at.session_state[session.LAST_ACTIVITY] = time.time()
    at.session_state["dsr_pick"] = str(request_id)
    at.switch_page(f"../pages/{PAGE}")
    return at.run()


def test_rectification_shows_the_diff_and_restriction_toggles(
    secure_database: SecureDatabase,
    admin: Identity,  # noqa: F811
) -> None:
    person = plant_subject(secure_database.owner)
    draft = RequestDraft(
        subject_email=person.email, request_type="rectification", verification_method="other"
    )
    request_id = create_request(admin.actor(), draft)
    start_processing(admin.actor(), request_id)
    at = _open_request(admin, request_id)
    assert not at.exception
    assert at.text_input(key="dsr_r_full_name").value == person.name
    at.text_input(key="dsr_r_full_name").input("Ilse Rectified")
    at.button(key="dsr_rectify_submit").click().run()
    assert not at.exception
    assert "1 field(s) corrected" in messages(at)
    diff = at.dataframe[-1].value
    assert list(diff["Before"]) == [person.name] and list(diff["After"]) == ["Ilse Rectified"]

    restriction = create_request(
        admin.actor(), RequestDraft(person.email, "restriction", verification_method="other")
    )
    start_processing(admin.actor(), restriction)
    at = _open_request(admin, restriction)
    at.button(key="dsr_restrict").click().run()
    assert "Marketing to this person is restricted." in messages(at)
    assert "Marketing is restricted since" in messages(at)
    at.button(key="dsr_lift").click().run()
    assert "The restriction is lifted." in messages(at)
    with secure_database.owner.connect() as c:
        assert (
            c.execute(
                text("SELECT marketing_restricted_at FROM users WHERE id = :u"),
                {"u": person.user_id},
            ).scalar_one()
            is None
        )


def test_matches_are_reviewed_on_the_page_and_the_erasure_completes(
    secure_database: SecureDatabase,
    admin: Identity,  # noqa: F811
) -> None:
    from tests.test_gdpr_review import _erasure_request, _someone_sharing

    person = plant_subject(secure_database.owner)
    _someone_sharing(secure_database.owner, person.phone)
    request_id = _erasure_request(admin, person.email)
    at = _open_request(admin, request_id)
    assert not at.exception
    assert "No matches recorded yet." in " ".join(str(c.value) for c in at.caption)

    at.button(key="dsr_erase_ask").click().run()
    at.button(key="dsr_erase_yes").click().run()
    assert not at.exception
    assert "Erasure stopped and nothing was erased" in messages(at)
    matches = at.dataframe[-1].value
    assert set(matches["Field"]) == {"orders.billing_phone", "users.phone_number"}
    assert set(matches["Decision"]) == {"to decide"}

    # Keep without a reason is refused with the field's rule; nothing is decided.
    at.checkbox(key="dsr_match_all").check()
    at.radio(key="dsr_match_decision").set_value("keep")
    at.button(key="dsr_match_submit").click().run()
    assert "keeping a match needs the reason" in messages(at)
    at.checkbox(key="dsr_match_all").check()
    at.radio(key="dsr_match_decision").set_value("keep")
    at.text_input(key="dsr_match_reason").input("Her family shares the number.")
    at.button(key="dsr_match_submit").click().run()
    assert "2 decision(s) recorded." in messages(at)
    assert set(at.dataframe[-1].value["Decision"]) == {"Keep: someone else's record"}

    at.button(key="dsr_erase_ask").click().run()
    at.button(key="dsr_erase_yes").click().run()
    assert not at.exception
    assert "The person is erased" in messages(at) and "2 match(es) kept" in messages(at)
    assert requests_status(secure_database, request_id) == "completed"


def requests_status(secure_database: SecureDatabase, request_id: uuid.UUID) -> str:
    with secure_database.owner.connect() as c:
        return c.execute(
            text("SELECT status FROM data_subject_requests WHERE id = :i"), {"i": request_id}
        ).scalar_one()
