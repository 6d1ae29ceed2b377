"""The free text of the staff points forms (grant and adjustment reasons, payment references) is
bounded: a huge text, a control character or raw invalid UTF-8 gets an error next to the field
and changes nothing; never a 500."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from points.models import Entry, Lot, Order, OrderStatus
from points.payments import PaymentBackend
from points.services import order_create
from tests.admin_support import funded_account, support_staff_user
from tests.factories import PointPackageFactory, account_owner
from tests.html import find, parse, text

pytestmark = pytest.mark.django_db

ATTACKS = {
    "1 MB": "a" * 1_000_000,
    "NUL": "before\x00after",
    "bell": "ring\x07ring",
    "terminal escape": "\x1b[2Jcleared",
    "C1 control": "next\x85line",
}


def grant(account):
    return reverse("admin:points_account_grant", args=[account.pk]), {
        "points": "50",
        "reason": "Goodwill",
    }


def adjust(account):
    return reverse("admin:points_account_adjust", args=[account.pk]), {
        "points": "-10",
        "reason": "Double credit",
    }


def mark_paid(account):
    order = order_create(
        account=account,
        package=PointPackageFactory(points=100),
        backend=PaymentBackend.MANUAL,
        actor=account_owner(account),
    )
    return reverse("admin:points_order_mark_paid", args=[order.pk]), {
        "payment_reference": "BANK-42"
    }


FIELDS = [(grant, "reason"), (adjust, "reason"), (mark_paid, "payment_reference")]
IDS = [form.__name__ for form, _field in FIELDS]


def ledger():
    return (
        Lot.objects.count(),
        Entry.objects.count(),
        list(Order.objects.values_list("status", flat=True)),
    )


@pytest.fixture
def staff_client(client):
    client.force_login(support_staff_user())
    return client


@pytest.mark.parametrize(("form", "field"), FIELDS, ids=IDS)
def test_each_form_accepts_its_ordinary_text(staff_client, form, field):
    url, data = form(funded_account(100))
    before = ledger()

    response = staff_client.post(url, data)

    assert response.status_code == 302
    assert ledger() != before


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
@pytest.mark.parametrize(("form", "field"), FIELDS, ids=IDS)
def test_huge_text_and_control_characters_are_refused_at_the_field(
    staff_client, form, field, attack
):
    url, data = form(funded_account(100))
    before = ledger()

    response = staff_client.post(url, {**data, field: attack})

    assert response.status_code == 200
    error = text(find(parse(response.content), "ul", class_="errorlist"))
    assert "at most" in error if len(attack) > 1000 else "control characters" in error
    assert ledger() == before
    assert OrderStatus.PAID not in ledger()[2]


@pytest.mark.parametrize(("form", "field"), FIELDS, ids=IDS)
def test_raw_invalid_utf8_is_refused(staff_client, form, field):
    url, data = form(funded_account(100))
    before = ledger()
    others = urlencode({name: value for name, value in data.items() if name != field})

    response = staff_client.post(
        url,
        f"{others}&{field}=".encode() + b"\xed\xa0\x80",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "control characters" in text(find(parse(response.content), "ul", class_="errorlist"))
    assert ledger() == before
