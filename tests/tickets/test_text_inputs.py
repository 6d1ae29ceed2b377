"""Every free-text input of the ticket pages and of the admin ticket page is bounded: a huge text,
a NUL or another control character, or raw invalid UTF-8 gets an error next to the field and
changes nothing; never a 500. The services refuse the same texts when called directly."""

from urllib.parse import urlencode

import pytest
from django.test import Client, override_settings

from core.text import REASON_MAX_CHARS
from points.models import Entry
from points.services import LedgerError, points_adjust, points_grant
from tests.admin_support import (
    file_ticket,
    funded_account,
    messages_of,
    support_staff_user,
    ticket_url,
)
from tests.factories import IssueCategoryFactory, account_owner
from tests.html import attr, find, parse, text
from tests.web import category, customer, db_state
from tickets import services
from tickets.models import (
    AccessDetails,
    Message,
    ReconsiderationRequest,
    TimeLog,
)

pytestmark = pytest.mark.django_db

ATTACKS = {
    "1 MB": "a" * 1_000_000,
    "NUL": "before\x00after",
    "bell": "ring\x07ring",
    "terminal escape": "\x1b[2Jcleared",
    "DEL": "x\x7fy",
    "C1 control": "next\x85line",
}
# A lone surrogate as UTF-8 would encode it if it could: invalid UTF-8, sent as raw bytes.
RAW_LONE_SURROGATE = b"\xed\xa0\x80"


def state():
    """Everything a refused submission must leave as it was."""
    return (
        db_state(),
        TimeLog.objects.count(),
        AccessDetails.objects.count(),
        list(ReconsiderationRequest.objects.order_by("pk").values_list("status", flat=True)),
        Entry.objects.count(),
    )


def raw_post(client: Client, url: str, data: dict, field: str, raw: bytes):
    """POST the form with `field` set to raw bytes (not valid UTF-8), urlencoded as browsers do."""
    others = urlencode({name: value for name, value in data.items() if name != field})
    body = f"{others}&{field}=".encode() + raw + b"tail"
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


# --- The customer's pages ---------------------------------------------------------------------


def resolved_ticket(account, user):
    ticket = file_ticket_for(account, user)
    services.ticket_resolve(ticket=ticket, actor=support_staff_user(), reason="Fixed")
    return ticket


def file_ticket_for(account, user):
    return services.ticket_file(
        account=account,
        filed_by=user,
        category=category("Incident solving"),
        subject="Checkout page is blank",
        description="Since the upgrade, checkout shows nothing.",
    )


def new_ticket(account, user):
    data = {
        "category": str(category("Incident solving").pk),
        "subject": "Checkout page is blank",
        "description": "Since this morning the checkout page shows nothing.",
    }
    return "/tickets/new/", data


def reply(account, user):
    return f"/tickets/{file_ticket_for(account, user).pk}/reply/", {"body": "Any news?"}


def reconsider(account, user):
    ticket = file_ticket_for(account, user)
    return f"/tickets/{ticket.pk}/reconsider/", {"message": "Forty points is too much."}


def rate(account, user):
    ticket = resolved_ticket(account, user)
    return f"/tickets/{ticket.pk}/rate/", {"score": "5", "comment": "Quick and clear."}


def access_details(account, user):
    ticket = file_ticket_for(account, user)
    data = {"host": "shop.example.com", "login": "admin", "password": "s3cret", "notes": "Port 22"}
    return f"/tickets/{ticket.pk}/access-details/", data


CUSTOMER_FIELDS = [
    (new_ticket, "subject"),
    (new_ticket, "description"),
    (reply, "body"),
    (reconsider, "message"),
    (rate, "comment"),
    (access_details, "host"),
    (access_details, "login"),
    (access_details, "password"),
    (access_details, "notes"),
]
CUSTOMER_IDS = [f"{form.__name__} {field}" for form, field in CUSTOMER_FIELDS]


@pytest.fixture
def funded(client):
    account, user = customer(200)
    client.force_login(user)
    return account, user


@pytest.mark.parametrize("form", [new_ticket, reply, reconsider, rate, access_details])
def test_each_customer_form_accepts_its_ordinary_text(client, funded, form):
    url, data = form(*funded)
    before = state()

    response = client.post(url, data)

    assert response.status_code == 302
    assert state() != before


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
@pytest.mark.parametrize(("form", "field"), CUSTOMER_FIELDS, ids=CUSTOMER_IDS)
def test_customer_forms_refuse_huge_text_and_control_characters(
    client, funded, form, field, attack
):
    url, data = form(*funded)
    before = state()

    response = client.post(url, {**data, field: attack})

    assert response.status_code == 200
    box = find(parse(response.content), "div", id=f"field-{field}")
    assert "field-invalid" in attr(box, "class")
    error = text(find(box, "ul", class_="errorlist"))
    assert "at most" in error if len(attack) > 1000 else "control characters" in error
    assert state() == before


@pytest.mark.parametrize(("form", "field"), CUSTOMER_FIELDS, ids=CUSTOMER_IDS)
def test_customer_forms_refuse_raw_invalid_utf8(client, funded, form, field):
    url, data = form(*funded)
    before = state()

    response = raw_post(client, url, data, field, RAW_LONE_SURROGATE)

    assert response.status_code == 200
    assert "control characters" in text(find(parse(response.content), "div", id=f"field-{field}"))
    assert state() == before


def test_line_breaks_are_stored_as_typed_in_one_form(client, funded):
    url, data = reply(*funded)

    client.post(url, {"body": "  first line\r\nsecond\tcolumn\rthird  "})

    assert Message.objects.latest("pk").body == "first line\nsecond\tcolumn\nthird"


@override_settings(HELPDESK_MESSAGE_MAX_CHARS=100)
def test_the_message_limit_is_a_setting_shown_by_the_text_area(client, funded):
    url, data = reply(*funded)
    page = parse(client.get(url.replace("reply/", "")).content)
    assert attr(find(page, "textarea", name="body"), "maxlength") == "100"

    refused = client.post(url, {"body": "x" * 101})
    # A browser sends a line break as two characters; it counts as one.
    accepted = client.post(url, {"body": "x" * 49 + "\r\n" + "y" * 50})

    error = text(find(parse(refused.content), "div", id="field-body"))
    assert "at most 100 characters (it has 101)" in error
    assert accepted.status_code == 302
    assert Message.objects.latest("pk").body == "x" * 49 + "\n" + "y" * 50


# --- The admin ticket page --------------------------------------------------------------------


def admin_reply(account):
    ticket = file_ticket(account)
    return ticket_url(ticket, "reply"), {"reply-body": "Hello", "reply-visibility": "public"}


def admin_note(account):
    ticket = file_ticket(account)
    return ticket_url(ticket, "reply"), {"reply-body": "Note", "reply-visibility": "internal"}


def admin_change_cost(account):
    ticket = file_ticket(account)
    return ticket_url(ticket, "change_cost"), {"cost-points": "45", "cost-reason": "More work"}


def admin_quote(account):
    ticket = file_ticket(account, IssueCategoryFactory(upon_request=True))
    return ticket_url(ticket, "quote"), {"quote-points": "90", "quote-note": "Three modules"}


def admin_log_time(account):
    ticket = file_ticket(account, IssueCategoryFactory(hourly=True))
    return ticket_url(ticket, "log_time"), {"time-minutes": "30", "time-note": "Set up goals"}


def admin_resolve(account):
    return ticket_url(file_ticket(account), "resolve"), {"resolve-reason": "Cache cleared"}


def admin_software_bug(account):
    return ticket_url(file_ticket(account), "software_bug"), {"bug-reason": "Bug #12"}


def admin_remove_urgency(account):
    ticket = file_ticket(account, is_urgent=True)
    return ticket_url(ticket, "remove_urgency"), {"urgency-reason": "Not urgent after all"}


def admin_wait_for_points(account):
    ticket = file_ticket(account)
    data = {"wait-points": "5000", "wait-reason": "A full migration"}
    return ticket_url(ticket, "wait_for_points"), data


def admin_reconsideration(account):
    ticket = file_ticket(account)
    asked = services.ticket_request_reconsideration(
        ticket=ticket, actor=account_owner(account), message="Too much."
    )
    prefix = f"reconsider-{asked.pk}"
    data = {f"{prefix}-decision": "decline", f"{prefix}-reason": "The price is fixed."}
    return ticket_url(ticket, "reconsideration", asked.pk), data


ADMIN_FIELDS = [
    (admin_reply, "reply-body"),
    (admin_note, "reply-body"),
    (admin_change_cost, "cost-reason"),
    (admin_quote, "quote-note"),
    (admin_log_time, "time-note"),
    (admin_resolve, "resolve-reason"),
    (admin_software_bug, "bug-reason"),
    (admin_remove_urgency, "urgency-reason"),
    (admin_wait_for_points, "wait-reason"),
    (admin_reconsideration, "reason"),
]
ADMIN_IDS = [form.__name__.removeprefix("admin_") for form, _field in ADMIN_FIELDS]


@pytest.fixture
def staff_client(client):
    client.force_login(support_staff_user())
    return client


def field_name(data: dict, field: str) -> str:
    """The reconsideration form's prefix holds the request's id."""
    return next(name for name in data if name.endswith(field))


@pytest.mark.parametrize("form", [form for form, _field in ADMIN_FIELDS], ids=ADMIN_IDS)
def test_each_admin_form_accepts_its_ordinary_text(staff_client, form):
    url, data = form(funded_account(500))
    before = state()

    response = staff_client.post(url, data)

    assert response.status_code == 302
    assert state() != before


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
@pytest.mark.parametrize(("form", "field"), ADMIN_FIELDS, ids=ADMIN_IDS)
def test_admin_forms_refuse_huge_text_and_control_characters(staff_client, form, field, attack):
    url, data = form(funded_account(500))
    name = field_name(data, field)
    before = state()

    response = staff_client.post(url, {**data, name: attack})

    assert response.status_code == 200
    assert messages_of(response) == ["Please correct the errors below."]
    if not name.startswith("wait-"):  # the hidden field of a panel shown only after a refusal
        box = find(parse(response.content), "div", class_=f"hd-field-{name}")
        error = text(find(box, "ul", class_="errorlist"))
        assert "at most" in error if len(attack) > 1000 else "control characters" in error
    assert state() == before


@pytest.mark.parametrize(("form", "field"), ADMIN_FIELDS, ids=ADMIN_IDS)
def test_admin_forms_refuse_raw_invalid_utf8(staff_client, form, field):
    url, data = form(funded_account(500))
    before = state()

    response = raw_post(staff_client, url, data, field_name(data, field), RAW_LONE_SURROGATE)

    assert response.status_code == 200
    assert messages_of(response) == ["Please correct the errors below."]
    assert state() == before


# --- The services -----------------------------------------------------------------------------


def service_calls(account, staff) -> dict:
    """Each service that stores free text, its ticket set up, as a call taking the text."""
    open_ticket = file_ticket(account)
    quoted = file_ticket(account, IssueCategoryFactory(upon_request=True))
    resolved = services.ticket_resolve(ticket=file_ticket(account), actor=staff)
    owner = account_owner(account)
    return {
        "file": lambda text: services.ticket_file(
            account=account,
            filed_by=owner,
            category=IssueCategoryFactory(),
            subject=text,
            description="d",
        ),
        "reply": lambda text: services.ticket_reply(ticket=open_ticket, author=staff, body=text),
        "change cost": lambda text: services.ticket_change_cost(
            ticket=open_ticket, points=45, reason=text, actor=staff
        ),
        "quote": lambda text: services.ticket_set_quote(
            ticket=quoted, points=9, note=text, actor=staff
        ),
        "resolve": lambda text: services.ticket_resolve(
            ticket=open_ticket, actor=staff, reason=text
        ),
        "reconsideration": lambda text: services.ticket_request_reconsideration(
            ticket=open_ticket, actor=owner, message=text
        ),
        "rating": lambda text: services.ticket_rate(
            ticket=resolved, actor=owner, score=4, comment=text
        ),
        "access details": lambda text: services.access_details_set(
            ticket=open_ticket, actor=owner, host="h", login="l", password=text
        ),
    }


SERVICES = [
    "file",
    "reply",
    "change cost",
    "quote",
    "resolve",
    "reconsideration",
    "rating",
    "access details",
]
SERVICE_TEXTS = {
    "too long": "x" * 50_001,
    "NUL": "a\x00b",
    "escape": "\x1b[0m",
    "lone surrogate": "\ud800",
}


@pytest.mark.parametrize("attack", SERVICE_TEXTS.values(), ids=SERVICE_TEXTS.keys())
@pytest.mark.parametrize("service", SERVICES)
def test_the_services_refuse_what_the_forms_refuse(service, attack):
    account = funded_account(1000)
    call = service_calls(account, support_staff_user())[service]
    before = state()

    with pytest.raises(services.TicketError, match="too long|control characters"):
        call(attack)

    assert state() == before


@pytest.mark.parametrize("operation", [points_grant, points_adjust])
@pytest.mark.parametrize(
    "reason", ["x" * (REASON_MAX_CHARS + 201), "bad\x00reason"], ids=["too long", "NUL"]
)
def test_the_ledger_refuses_unstorable_reasons(operation, reason):
    account = funded_account(100)
    before = state()

    with pytest.raises(LedgerError, match="too long|control characters"):
        operation(account=account, points=10, reason=reason, actor=None)

    assert state() == before
