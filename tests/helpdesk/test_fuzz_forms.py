"""Every form a customer or a staff member can submit, fuzzed the way an attacker would.

Each test opens a page, finds its forms in the HTML (so a form added later is fuzzed too), and
submits them with Hypothesis-drawn values mixed with valid ones: arbitrary text (NUL, control
characters, unpaired surrogates sent as invalid UTF-8, 1 MB strings), numbers around 0 and the
32/64-bit limits, dates from year 1 to 9999. The answer is never a server error; a refused
submission changes nothing (row counts, lots, holds, tickets, files), and the ledger always passes
`check_ledger`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote_from_bytes

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.constants import ERROR
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from points.models import PointPackage
from points.payments import PaymentBackend
from points.services import order_create, order_mark_paid
from tests.admin_support import file_ticket, funded_account
from tests.factories import (
    PASSWORD,
    IssueCategoryFactory,
    StaffUserFactory,
    UserFactory,
    account_owner,
)
from tests.html import attr, find_all, parse
from tests.web import db_state
from tickets.services import (
    ticket_reply,
    ticket_request_reconsideration,
    ticket_resolve,
    ticket_set_quote,
)

pytestmark = pytest.mark.django_db

EXAMPLES = 25
HUGE = 1_000_000

# --- Values an attacker sends -----------------------------------------------------------------

# Each of these goes into every field of every form once, the other fields keeping valid values.
SPECIAL_VALUES = [
    "",
    "0",
    "-1",
    str(2**31),
    str(2**63),
    "-" + str(2**63 + 1),
    "1e999999",
    "a\x00b",
    "\ud800",
    "0001-01-01",
    "9999-12-31",
    "A" * HUGE,
    "[" * 50_000,
]
_LIMITS = [0, 1, -1, 2**15, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**100]
boundary_numbers = st.sampled_from(_LIMITS + [-n for n in _LIMITS]).map(str)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1e5", "1e999999", " 12 ", "١٢", "12.5", "-0", "0x10", "NaN", "Infinity"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
dates = st.one_of(
    st.dates().map(lambda day: day.isoformat()),
    st.datetimes().map(lambda moment: moment.isoformat(sep=" ")),
    st.sampled_from(["0000-00-00", "9999-12-31", "0001-01-01", "2026-02-30", "31/12/9999"]),
)
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80),
    st.sampled_from(
        [
            "\x00",
            "\x1b[31m",
            "x\udfffy",
            "\u202e",
            "<script>alert(1)</script>",
            "- " * 3000,
            "> " * 3000,
            "`" * 5000,
        ]
    ),
)
huge_texts = st.sampled_from(["A", "[", "*", "<", "\x00", "é", "_"]).map(lambda c: c * HUGE)
attack_values = st.one_of(boundary_numbers, numbers, texts, huge_texts, dates)


def encode(value: str) -> str:
    """Percent-encode UTF-8, keeping unpaired surrogates as the invalid bytes a client can send."""
    return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe="")


def raw_query(fields: list[tuple[str, str]]) -> str:
    return "&".join(f"{encode(name)}={encode(value)}" for name, value in fields)


# --- Forms found in the page ------------------------------------------------------------------


@dataclass
class Field:
    name: str
    value: str
    options: list[str]


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field]


def page_forms(client: Client, url: str) -> list[Form]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    forms = []
    for element in find_all(parse(response.content), "form"):
        if "logout" in (attr(element, "action") or ""):
            continue
        fields = []
        for control in find_all(element):
            name = attr(control, "name")
            if not name or name == "csrfmiddlewaretoken":
                continue
            if control.name == "input":
                kind = attr(control, "type") or "text"
                if kind in ("submit", "button", "image", "reset", "file"):
                    continue
                value = attr(control, "value") or ("on" if kind == "checkbox" else "")
                fields.append(Field(name, value, []))
            elif control.name == "textarea":
                fields.append(Field(name, "A reasonable text.", []))
            elif control.name == "select":
                options = [attr(option, "value") or "" for option in find_all(control, "option")]
                fields.append(Field(name, options[-1] if options else "", options))
        method = (attr(element, "method") or "get").lower()
        forms.append(Form(attr(element, "action") or url, method, fields))
    assert forms, url
    return forms


def field_values(form: Form):
    """Each field keeps a valid value, takes another option, or gets an attacker's value."""
    per_field = []
    for field in form.fields:
        choices = [st.just(field.value), attack_values]
        if field.options:
            choices.append(st.sampled_from(field.options))
        per_field.append(st.tuples(st.just(field.name), st.one_of(choices)))
    return st.tuples(*per_field).map(list)


# --- What must hold after every submission ----------------------------------------------------


def assert_ledger_consistent():
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "Ledger is consistent." in out.getvalue()


def submit(client: Client, form: Form, fields: list[tuple[str, str]]):
    before = db_state()
    if form.method == "post":
        response = client.post(
            form.action, raw_query(fields), content_type="application/x-www-form-urlencoded"
        )
    else:
        path = form.action.split("?")[0]
        response = client.get(path, QUERY_STRING=raw_query(fields))
    assert response.status_code < 500, (form.action, fields)
    errors = [m for m in get_messages(response.wsgi_request) if m.level >= ERROR]
    refused = response.status_code != 302 or errors
    after = db_state()
    if form.method == "post" and refused:
        assert after == before, (form.action, fields)
    if after != before:
        assert_ledger_consistent()


def fuzz_page(client: Client, url: str, user=None):
    """Every special value in every field once, then random mixes of valid and hostile values."""
    log_in = (lambda: client.force_login(user)) if user else (lambda: None)
    log_in()
    forms = page_forms(client, url)
    for form in forms:
        valid = [(field.name, field.value) for field in form.fields]
        for index in range(len(valid)):
            for value in SPECIAL_VALUES:
                log_in()
                fields = list(valid)
                fields[index] = (fields[index][0], value)
                submit(client, form, fields)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        log_in()
        form = data.draw(st.sampled_from(forms), label="form")
        submit(client, form, data.draw(field_values(form), label="fields"))

    run()


# --- The pages --------------------------------------------------------------------------------


@pytest.fixture
def world():
    """A customer with tickets in every state a form depends on, and a staff superuser."""
    staff = StaffUserFactory(is_superuser=True)
    account = funded_account(5000)
    owner = account_owner(account)
    fixed = file_ticket(account, IssueCategoryFactory(points=40), is_urgent=True)
    ranged = file_ticket(account, IssueCategoryFactory(range=True))
    hourly = file_ticket(account, IssueCategoryFactory(hourly=True))
    quoted = file_ticket(account, IssueCategoryFactory(upon_request=True))
    ticket_set_quote(ticket=quoted, points=90, note="Two hours of work.", actor=staff)
    resolved = file_ticket(account, IssueCategoryFactory(minimum=True))
    ticket_reply(ticket=resolved, author=staff, body="Done.")
    ticket_resolve(ticket=resolved, actor=staff, reason="Solved.")
    ticket_request_reconsideration(ticket=resolved, actor=owner, message="Too expensive.")
    package = PointPackage.objects.create(name="Starter", points=100, price=100)
    order = order_create(
        account=account, package=package, backend=PaymentBackend.MANUAL, actor=owner
    )
    paid_order = order_create(
        account=account, package=package, backend=PaymentBackend.MANUAL, actor=owner
    )
    order_mark_paid(order=paid_order, payment_reference="fuzz-paid")
    UserFactory(email="webmaster@example.com")
    return {
        "staff": staff,
        "owner": owner,
        "account": account,
        "tickets": {
            "fixed": fixed,
            "ranged": ranged,
            "hourly": hourly,
            "quoted": quoted,
            "resolved": resolved,
        },
        "package": package,
        "order": order,
        "paid_order": paid_order,
    }


CUSTOMER_PAGES = [
    "/tickets/",
    "/tickets/new/",
    "/tickets/{fixed}/",
    "/tickets/{quoted}/",
    "/tickets/{resolved}/",
    "/tickets/{ranged}/cancel/",
    "/communication-center/support-points/buy/",
    "/accounts/users/",
    "/accounts/password_change/",
    "/communication-center/support-points/",
    "/communication-center/billing/details/",
    "/accounts/security/",
    "/accounts/privacy/",
    "/accounts/api-tokens/",
]

STAFF_PAGES = [
    "/admin/tickets/ticket/",
    "/admin/tickets/ticket/{fixed}/change/",
    "/admin/tickets/ticket/{ranged}/change/",
    "/admin/tickets/ticket/{hourly}/change/",
    "/admin/tickets/ticket/{quoted}/change/",
    "/admin/tickets/ticket/{resolved}/change/",
    "/admin/accounts/account/{account}/grant/",
    "/admin/accounts/account/{account}/adjust/",
    "/admin/accounts/account/{account}/change/",
    "/admin/points/order/",
    "/admin/points/order/{order}/change/",
    "/admin/billing/receipt/refund-order/{paid_order}/",
    "/admin/points/pointpackage/add/",
    "/admin/catalog/issuecategory/add/",
    "/admin/helpdesk/user/add/",
    "/admin/api/integrationkey/add/",
]

ANONYMOUS_PAGES = [
    "/accounts/signup/",
    "/accounts/login/",
    "/accounts/password_reset/",
    "/admin/login/",
]


def page_url(template: str, world) -> str:
    ids = {name: ticket.pk for name, ticket in world["tickets"].items()}
    return template.format(
        account=world["account"].pk,
        order=world["order"].pk,
        paid_order=world["paid_order"].pk,
        **ids,
    )


@pytest.mark.parametrize("url", CUSTOMER_PAGES)
def test_customer_forms_survive_an_attacker(client, world, url):
    fuzz_page(client, page_url(url, world), world["owner"])


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_forms_survive_an_attacker(client, world, url):
    fuzz_page(client, page_url(url, world), world["staff"])


@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_public_forms_survive_an_attacker(client, url):
    UserFactory(email="pat@example.com", password=PASSWORD)
    fuzz_page(client, url)
