"""Ticket rules, through the services: first-response targets, what filing captures, reopening,
cancelling, dropping urgency, rating, attachment limits, and two filings racing."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings

from points.models import Hold, HoldStatus
from points.selectors import points_available
from points.services import InsufficientPoints, points_grant
from tests.factories import AccountFactory, IssueCategoryFactory, StaffUserFactory, account_owner
from tests.web import PNG, category, customer, png, stored_files, text_file
from tickets import services
from tickets.models import (
    Attachment,
    CostChangeKind,
    Rating,
    ReconsiderationStatus,
    Ticket,
    TicketStatus,
)

pytestmark = pytest.mark.django_db

# A week of March 2027: Monday 15 … Sunday 21 (UTC is the HelpDesk time zone in the tests).
FRIDAY = datetime(2027, 3, 12, 15, 0, tzinfo=UTC)
SATURDAY = datetime(2027, 3, 13, 10, 0, tzinfo=UTC)
TUESDAY = datetime(2027, 3, 16, 0, 0, tzinfo=UTC)
GRANTED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def file(account, user, category_name="Incident solving", *, at, **options):
    return services.ticket_file(
        account=account,
        filed_by=user,
        category=category(category_name),
        subject=options.pop("subject", "Checkout is broken"),
        description=options.pop("description", "Customers see a blank page."),
        at=at,
        **options,
    )


@pytest.fixture
def funded():
    return customer(200, at=GRANTED)


# --- First-response due times (SPEC §5) ---------------------------------------------------------


def test_ticket_filed_on_a_saturday_is_due_tuesday_at_midnight(funded):
    ticket = file(*funded, at=SATURDAY)

    assert ticket.first_response_due_at == TUESDAY


def test_ticket_filed_on_a_friday_afternoon_is_due_monday_at_the_same_time(funded):
    ticket = file(*funded, at=FRIDAY)

    assert ticket.first_response_due_at == datetime(2027, 3, 15, 15, 0, tzinfo=UTC)


def test_ticket_filed_on_a_weekday_is_due_24_hours_later(funded):
    ticket = file(*funded, at=datetime(2027, 3, 16, 11, 30, tzinfo=UTC))

    assert ticket.first_response_due_at == datetime(2027, 3, 17, 11, 30, tzinfo=UTC)


@override_settings(HELPDESK_HOLIDAYS=["2027-03-15"])
def test_a_configured_holiday_does_not_count(funded):
    ticket = file(*funded, at=SATURDAY)

    assert ticket.first_response_due_at == datetime(2027, 3, 17, 0, 0, tzinfo=UTC)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_business_days_follow_the_helpdesk_time_zone(funded):
    saturday_in_berlin = datetime(2027, 3, 13, 10, 0, tzinfo=UTC)

    ticket = file(*funded, at=saturday_in_berlin)

    # Tuesday 00:00 in Berlin (UTC+1 in March before the switch) is Monday 23:00 UTC.
    assert ticket.first_response_due_at == datetime(2027, 3, 15, 23, 0, tzinfo=UTC)


def test_urgent_ticket_is_due_within_one_working_hour(funded):
    ticket = file(*funded, at=datetime(2027, 3, 16, 11, 0, tzinfo=UTC), is_urgent=True)

    assert ticket.first_response_due_at == datetime(2027, 3, 16, 12, 0, tzinfo=UTC)


def test_urgent_ticket_filed_late_in_the_day_carries_over_to_the_next_morning(funded):
    ticket = file(*funded, at=datetime(2027, 3, 16, 17, 30, tzinfo=UTC), is_urgent=True)

    assert ticket.first_response_due_at == datetime(2027, 3, 17, 9, 30, tzinfo=UTC)


def test_urgent_ticket_filed_on_a_saturday_is_due_monday_at_ten(funded):
    ticket = file(*funded, at=SATURDAY, is_urgent=True)

    assert ticket.first_response_due_at == datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


@override_settings(
    HELPDESK_WORKING_HOURS_START=datetime(2000, 1, 1, 8, 0).time(),
    HELPDESK_WORKING_HOURS_END=datetime(2000, 1, 1, 12, 0).time(),
)
def test_urgent_target_uses_the_configured_working_hours(funded):
    ticket = file(*funded, at=datetime(2027, 3, 16, 11, 45, tzinfo=UTC), is_urgent=True)

    assert ticket.first_response_due_at == datetime(2027, 3, 17, 8, 45, tzinfo=UTC)


# --- What filing captures -----------------------------------------------------------------------


def test_filing_captures_the_category_price_and_records_it_in_the_cost_history(funded):
    account, user = funded

    ticket = file(account, user, at=SATURDAY)

    hold = Hold.objects.get(ticket=ticket)
    assert (hold.status, hold.amount) == (HoldStatus.OPEN, 40)
    assert ticket.status == TicketStatus.OPEN
    assert points_available(account=account, at=SATURDAY) == 160
    assert list(ticket.cost_changes.values_list("kind", "new_points")) == [
        (CostChangeKind.CAPTURED, 40)
    ]


def test_urgent_ticket_captures_twice_the_price(funded):
    account, user = funded

    ticket = file(account, user, at=SATURDAY, is_urgent=True)

    assert Hold.objects.get(ticket=ticket).amount == 80
    assert ticket.cost_changes.get().reason == "Price of Incident solving, doubled for HotRush"


@pytest.mark.parametrize(
    ("category_name", "options"),
    [("Other issues", {}), ("Incident solving", {"quote_first": True})],
    ids=["upon-request category", "quote first"],
)
def test_quote_tickets_capture_nothing_and_wait_for_a_quote(funded, category_name, options):
    account, user = funded

    ticket = file(account, user, category_name, at=SATURDAY, **options)

    assert ticket.status == TicketStatus.AWAITING_QUOTE
    assert not Hold.objects.filter(ticket=ticket).exists()
    assert not ticket.cost_changes.exists()
    assert points_available(account=account, at=SATURDAY) == 200


def test_accepting_a_quote_captures_it_and_declining_cancels_at_no_cost(funded):
    account, user = funded
    staff = StaffUserFactory()
    accepted = file(account, user, "Other issues", at=SATURDAY)
    declined = file(account, user, "Other issues", at=SATURDAY)
    for ticket in (accepted, declined):
        services.ticket_set_quote(ticket=ticket, points=70, note="Two hours", actor=staff)

    services.ticket_accept_quote(ticket=accepted, actor=user)
    services.ticket_decline_quote(ticket=declined, actor=user)

    assert Hold.objects.get(ticket=accepted).amount == 70
    assert Ticket.objects.get(pk=accepted.pk).status == TicketStatus.OPEN
    assert Ticket.objects.get(pk=declined.pk).status == TicketStatus.CANCELLED
    assert not Hold.objects.filter(ticket=declined).exists()


def test_a_free_category_needs_no_balance():
    account, user = customer(0)

    ticket = file(account, user, "General questions", at=SATURDAY)

    assert ticket.status == TicketStatus.OPEN
    assert Hold.objects.get(ticket=ticket).amount == 0


def test_filing_without_enough_points_creates_nothing_and_leaves_no_file_behind():
    account, user = customer(30, at=GRANTED)
    files_before = stored_files()

    with pytest.raises(InsufficientPoints) as refused:
        file(account, user, at=SATURDAY, attachments=[png()])

    assert (refused.value.required, refused.value.available, refused.value.missing) == (40, 30, 10)
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files() == files_before
    assert points_available(account=account, at=SATURDAY) == 30


# --- Replies and reopening ----------------------------------------------------------------------


def resolved_ticket(funded, *, at=SATURDAY):
    account, user = funded
    staff = StaffUserFactory()
    ticket = file(account, user, at=at)
    services.ticket_reply(ticket=ticket, author=staff, body="Fixed.", at=at + timedelta(hours=1))
    return services.ticket_resolve(ticket=ticket, actor=staff, at=at + timedelta(hours=2)), user


def test_customer_reply_within_the_reopen_window_reopens_at_no_new_charge(funded):
    ticket, user = resolved_ticket(funded)

    services.ticket_reply(
        ticket=ticket, author=user, body="It broke again.", at=ticket.resolved_at + timedelta(13)
    )

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert Hold.objects.get(ticket=ticket).status == HoldStatus.SETTLED
    assert points_available(account=ticket.account, at=SATURDAY) == 160


def test_customer_reply_after_the_reopen_window_is_refused(funded):
    ticket, user = resolved_ticket(funded)

    with pytest.raises(services.TicketError, match="can no longer be reopened"):
        services.ticket_reply(
            ticket=ticket, author=user, body="Hello?", at=ticket.resolved_at + timedelta(15)
        )

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert ticket.messages.count() == 2


@override_settings(HELPDESK_REOPEN_DAYS=3)
def test_reopen_window_is_a_setting(funded):
    ticket, user = resolved_ticket(funded)

    with pytest.raises(services.TicketError):
        services.ticket_reply(
            ticket=ticket, author=user, body="Hi", at=ticket.resolved_at + timedelta(days=4)
        )


# --- Cancelling ---------------------------------------------------------------------------------


def test_cancel_before_the_first_staff_response_returns_the_points(funded):
    account, user = funded
    ticket = file(account, user, at=SATURDAY)

    services.ticket_cancel(ticket=ticket, actor=user, at=SATURDAY + timedelta(minutes=5))

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CANCELLED
    assert Hold.objects.get(ticket=ticket).status == HoldStatus.RELEASED
    assert points_available(account=account, at=SATURDAY) == 200
    assert ticket.cost_changes.last().kind == CostChangeKind.RETURNED


def test_cancel_after_staff_answered_is_refused(funded):
    account, user = funded
    ticket = file(account, user, at=SATURDAY)
    services.ticket_reply(ticket=ticket, author=StaffUserFactory(), body="Looking into it.")

    with pytest.raises(services.TicketError, match="already answered"):
        services.ticket_cancel(ticket=ticket, actor=user)

    assert Hold.objects.get(ticket=ticket).status == HoldStatus.OPEN
    assert points_available(account=account, at=SATURDAY) == 160


def test_an_internal_note_is_not_a_response_and_does_not_prevent_cancelling(funded):
    account, user = funded
    ticket = file(account, user, at=SATURDAY)
    services.ticket_reply(
        ticket=ticket, author=StaffUserFactory(), body="Customer sounds upset.", internal=True
    )

    services.ticket_cancel(ticket=ticket, actor=user)

    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CANCELLED


# --- Urgency ------------------------------------------------------------------------------------


def test_dropping_urgency_before_assignment_returns_the_surcharge_and_relaxes_the_target(funded):
    account, user = funded
    ticket = file(account, user, at=SATURDAY, is_urgent=True)

    services.ticket_remove_urgency(ticket=ticket, actor=user, at=SATURDAY + timedelta(minutes=5))

    ticket.refresh_from_db()
    assert not ticket.is_urgent
    assert ticket.first_response_due_at == TUESDAY
    assert Hold.objects.get(ticket=ticket).amount == 40
    assert points_available(account=account, at=SATURDAY) == 160
    change = ticket.cost_changes.last()
    assert (change.kind, change.old_points, change.new_points) == (
        CostChangeKind.URGENCY_REMOVED,
        80,
        40,
    )


def test_dropping_urgency_after_assignment_is_refused(funded):
    account, user = funded
    staff = StaffUserFactory()
    ticket = file(account, user, at=SATURDAY, is_urgent=True)
    services.ticket_assign(ticket=ticket, assignee=staff, actor=staff)

    with pytest.raises(services.TicketError, match="already assigned"):
        services.ticket_remove_urgency(ticket=ticket, actor=user)

    assert Hold.objects.get(ticket=ticket).amount == 80


# --- Resolving while the customer disputes the cost -------------------------------------------


def test_resolving_waits_for_the_decision_on_a_pending_reconsideration(funded):
    account, user = funded
    staff = StaffUserFactory()
    ticket = file(account, user, at=SATURDAY)
    asked = services.ticket_request_reconsideration(
        ticket=ticket, actor=user, message="Forty points for a typo?", at=SATURDAY
    )

    with pytest.raises(services.ReconsiderationPending, match="lower it or decline the request"):
        services.ticket_resolve(ticket=ticket, actor=staff, reason="Done", at=SATURDAY)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome, ticket.resolved_at) == (TicketStatus.OPEN, "", None)
    hold = Hold.objects.get(ticket=ticket)
    assert (hold.status, hold.amount) == (HoldStatus.OPEN, 40)
    asked.refresh_from_db()
    assert asked.status == ReconsiderationStatus.PENDING

    services.ticket_decide_reconsideration(
        reconsideration=asked, actor=staff, reason="The fix took an hour.", at=SATURDAY
    )
    services.ticket_resolve(ticket=ticket, actor=staff, reason="Done", at=SATURDAY)
    hold.refresh_from_db()
    assert (hold.status, hold.amount) == (HoldStatus.SETTLED, 40)


def test_a_software_bug_decides_a_pending_reconsideration_by_returning_everything(funded):
    account, user = funded
    staff = StaffUserFactory()
    ticket = file(account, user, at=SATURDAY)
    asked = services.ticket_request_reconsideration(
        ticket=ticket, actor=user, message="This is your bug.", at=SATURDAY
    )

    services.ticket_mark_software_bug(ticket=ticket, actor=staff, reason="Bug #42", at=SATURDAY)

    asked.refresh_from_db()
    assert (asked.status, asked.decision_reason) == (ReconsiderationStatus.LOWERED, "Bug #42")
    assert Hold.objects.get(ticket=ticket).status == HoldStatus.RELEASED
    assert points_available(account=account, at=SATURDAY) == 200


# --- Rating -------------------------------------------------------------------------------------


def test_a_resolved_ticket_is_rated_once(funded):
    ticket, user = resolved_ticket(funded)

    services.ticket_rate(ticket=ticket, actor=user, score=5, comment="Quick and clear")
    with pytest.raises(services.TicketError, match="already been rated"):
        services.ticket_rate(ticket=ticket, actor=user, score=1)

    assert list(Rating.objects.values_list("score", "comment")) == [(5, "Quick and clear")]


def test_a_ticket_in_progress_cannot_be_rated(funded):
    account, user = funded
    ticket = file(account, user, at=SATURDAY)

    with pytest.raises(services.TicketError, match="once it is resolved"):
        services.ticket_rate(ticket=ticket, actor=user, score=4)

    assert not Rating.objects.exists()


# --- Refusal codes -----------------------------------------------------------------------------


def refusals(account, user, staff):
    """The refusals of what was typed, each with the code it must carry."""
    ticket = file(account, user, "X-Cart performance optimization", at=SATURDAY)
    return {
        "cost_out_of_bounds": lambda: services.ticket_change_cost(
            ticket=ticket, points=10, reason="Less", actor=staff
        ),
        "cost_unchanged": lambda: services.ticket_change_cost(
            ticket=ticket, points=180, reason="Same", actor=staff
        ),
        "reason_required": lambda: services.ticket_change_cost(
            ticket=ticket, points=200, reason="   ", actor=staff
        ),
        "invalid_text": lambda: services.ticket_change_cost(
            ticket=ticket, points=200, reason="x\x00", actor=staff
        ),
        "message_empty": lambda: services.ticket_reply(ticket=ticket, author=user, body=" "),
        "attachment_rejected": lambda: services.ticket_reply(
            ticket=ticket, author=user, body="See", attachments=[text_file("tool.exe")]
        ),
        "not_hourly": lambda: services.ticket_log_time(
            ticket=ticket, minutes=30, note="Work", actor=staff
        ),
        "logged_time_out_of_range": lambda: services.ticket_log_time(
            ticket=ticket, minutes=0, note="Work", actor=staff
        ),
        "subject_and_description_required": lambda: file(account, user, subject="", at=SATURDAY),
        "assignee_not_staff": lambda: services.ticket_assign(
            ticket=ticket, assignee=user, actor=staff
        ),
    }


def test_refusals_carry_stable_codes(funded):
    account, user = funded
    staff = StaffUserFactory()

    codes = {}
    for expected, attempt in refusals(account, user, staff).items():
        with pytest.raises(services.TicketError) as refused:
            attempt()
        codes[expected] = refused.value.code

    assert codes == {code: code for code in codes}


# --- Attachment limits --------------------------------------------------------------------------


def test_allowed_attachments_are_stored_with_the_type_of_their_extension(funded):
    account, user = funded
    claimed_html = text_file("notes.txt")
    claimed_html.content_type = "text/html"

    ticket = file(account, user, at=SATURDAY, attachments=[png(), claimed_html])

    stored = list(
        Attachment.objects.filter(message__ticket=ticket).values_list("name", "content_type")
    )
    assert stored == [("screenshot.png", "image/png"), ("notes.txt", "text/plain")]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: text_file("setup.exe", b"MZ\x90\x00"), "allowed file types are"),
        (lambda: text_file("photo.png", b"GIF89a not a png"), "not a valid .png file"),
        (lambda: text_file("dump.log", b"binary\x00data"), "not a valid .log file"),
        (lambda: text_file("empty.txt", b""), "is empty"),
        (lambda: text_file("noextension", b"hello"), "allowed file types are"),
    ],
    ids=["type not allowed", "content not matching", "binary text", "empty", "no extension"],
)
def test_attachments_of_a_wrong_type_are_refused_with_their_name(upload, message):
    file_ = upload()

    with pytest.raises(services.AttachmentRejected, match=message) as refused:
        services.attachments_check([file_])

    assert file_.name in str(refused.value)


@override_settings(HELPDESK_ATTACHMENT_MAX_BYTES=100)
def test_an_attachment_over_the_size_limit_is_refused():
    with pytest.raises(services.AttachmentRejected, match="too large"):
        services.attachments_check([text_file("big.txt", b"x" * 101)])
    assert services.attachments_check([text_file("ok.txt", b"x" * 100)])


@override_settings(HELPDESK_ATTACHMENT_MAX_COUNT=2)
def test_more_attachments_than_the_limit_are_refused(funded):
    account, user = funded
    ticket = file(account, user, at=SATURDAY)

    with pytest.raises(services.AttachmentRejected, match="at most 2 files"):
        services.ticket_reply(
            ticket=ticket, author=user, body="Three files", attachments=[png(), png(), png()]
        )

    assert ticket.messages.count() == 1


def test_a_renamed_image_keeps_working_as_a_valid_upload():
    upload = text_file("Screen Shot.PNG", PNG)

    assert services.attachments_check([upload]) == [upload]
    assert upload.content_type == "image/png"


# --- Two filings at once ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_tickets_filed_at_once_never_overspend_and_never_deadlock():
    """Each filing locks the account before capturing: one of two 40-point tickets fits."""
    account = AccountFactory()
    user = account_owner(account)
    points_grant(account=account, points=40, reason="Test", actor=None)
    priced = IssueCategoryFactory(points=40)
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(number):
        try:
            barrier.wait()
            services.ticket_file(
                account=account,
                filed_by=user,
                category=priced,
                subject=f"Race {number}",
                description="Two at once",
            )
            outcomes.append("filed")
        except InsufficientPoints:
            outcomes.append("refused")
        except Exception as error:  # a deadlock or anything else fails the test below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["filed", "refused"]
    assert Ticket.objects.filter(account=account).count() == 1
    assert points_available(account=account) == 0
