"""Numbers and dates staff type into the points admin, and the ledger services behind them.

Each number is bounded by the business (HELPDESK_MAX_POINTS_PER_OPERATION, 100,000 by default) and
by its column; each date by what it means (a grant expires after today and within
HELPDESK_MAX_GRANT_VALIDITY_DAYS). A refusal is an error next to the field, or a clear message from
the service, never a 500, and it changes nothing: the ledger is as before and still consistent.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from points.admin_forms import AdjustPointsForm, GrantPointsForm
from points.models import Lot, LotKind, PointPackage
from points.selectors import packages_on_sale, points_available
from points.services import (
    InvalidAmount,
    InvalidExpiry,
    LedgerError,
    hold_capture,
    hold_change,
    hold_refund,
    hold_settle,
    order_create,
    points_adjust,
    points_grant,
    points_purchase,
)
from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.factories import PointPackageFactory, account_owner
from tests.html import find, find_all, parse, text
from tests.points.support import T0, assert_ledger_consistent, days, ledger_state, new_ticket

pytestmark = pytest.mark.django_db

LIMIT = 100_000
BIGINT_MAX = 2**63 - 1

# Whole numbers a person (or an attacker) may type, and what each must become.
REFUSED_POINTS = [
    "0",
    "-1",
    "100001",  # one over the business's limit
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 100,
    "9" * 100_000,
    "1e5",
    "12.0",
    "1,000",
    "0x10",
    "١٢",  # Arabic-Indic digits
    "１２",  # full-width digits
    "²",
    "12\x00",
    "",
    "   ",
]
ACCEPTED_POINTS = {" 12 ": 12, "+7": 7, "007": 7, "100000": LIMIT}


@pytest.fixture
def staff_client(client):
    client.force_login(support_staff_user())
    return client


def grant_url(account):
    return reverse("admin:points_account_grant", args=[account.pk])


def adjust_url(account):
    return reverse("admin:points_account_adjust", args=[account.pk])


def field_errors(response, field: str) -> str:
    """The errors shown next to `field` on an admin action page."""
    assert response.status_code == 200
    row = find(parse(response.content), "div", class_=f"field-{field}")
    return " ".join(text(errors) for errors in find_all(row, "ul", class_="errorlist"))


# --- Grants -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", REFUSED_POINTS)
def test_a_grant_of_points_out_of_bounds_is_refused_next_to_the_field(staff_client, typed):
    account = funded_account(100)
    before = ledger_state()

    response = staff_client.post(grant_url(account), {"points": typed, "reason": "Goodwill"})

    assert field_errors(response, "points")
    assert ledger_state() == before
    assert_ledger_consistent()


def test_the_largest_grant_is_refused_with_the_limit_in_words(staff_client):
    account = funded_account(0)

    response = staff_client.post(
        grant_url(account), {"points": "9223372036854775808", "reason": "Goodwill"}
    )

    assert field_errors(response, "points") == (
        "Ensure this value is less than or equal to 100000."
    )


@pytest.mark.parametrize(("typed", "points"), ACCEPTED_POINTS.items())
def test_a_grant_typed_in_plain_digits_is_accepted(staff_client, typed, points):
    account = funded_account(0)

    response = staff_client.post(grant_url(account), {"points": typed, "reason": "Goodwill"})

    assert response.status_code == 302
    assert Lot.objects.get(account=account).points == points
    assert_ledger_consistent()


def test_the_limit_is_read_from_the_setting_when_the_form_is_sent(staff_client, settings):
    settings.HELPDESK_MAX_POINTS_PER_OPERATION = 50
    account = funded_account(0)

    refused = staff_client.post(grant_url(account), {"points": "51", "reason": "Goodwill"})
    accepted = staff_client.post(grant_url(account), {"points": "50", "reason": "Goodwill"})

    assert field_errors(refused, "points") == "Ensure this value is less than or equal to 50."
    assert accepted.status_code == 302
    assert list(Lot.objects.filter(account=account).values_list("points", flat=True)) == [50]


def today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


@pytest.mark.parametrize(
    "typed",
    [
        "0001-01-01",
        "2001-01-01",
        "yesterday",
        "today",
        "3651 days",
        "9999-12-31",
        "10000-01-01",
        "99999999-01-01",
        "2027-02-30",
        "31/12/9999",
        "9999-12-31\x00",
    ],
)
def test_a_grant_expiring_in_the_past_or_too_far_ahead_is_refused_next_to_the_field(
    staff_client, typed
):
    relative = {"yesterday": -1, "today": 0, "3651 days": 3651}
    if typed in relative:
        typed = (today() + timedelta(days=relative[typed])).isoformat()
    account = funded_account(100)
    before = ledger_state()

    response = staff_client.post(
        grant_url(account), {"points": "10", "reason": "Goodwill", "expires_on": typed}
    )

    assert field_errors(response, "expires_on")
    assert ledger_state() == before
    assert_ledger_consistent()


def test_a_grant_expiry_past_the_setting_says_which_day_is_the_latest(staff_client, settings):
    settings.HELPDESK_MAX_GRANT_VALIDITY_DAYS = 30
    account = funded_account(0)
    latest = today() + timedelta(days=30)

    response = staff_client.post(
        grant_url(account),
        {
            "points": "10",
            "reason": "Goodwill",
            "expires_on": (latest + timedelta(days=1)).isoformat(),
        },
    )

    assert field_errors(response, "expires_on") == (
        f"Choose a day up to {latest.isoformat()}: granted points expire within 30 days."
    )


@pytest.mark.parametrize("ahead", [1, 3650])
def test_a_grant_may_expire_from_tomorrow_to_ten_years_ahead(staff_client, ahead):
    account = funded_account(0)
    day = today() + timedelta(days=ahead)

    response = staff_client.post(
        grant_url(account), {"points": "10", "reason": "Goodwill", "expires_on": day.isoformat()}
    )

    assert response.status_code == 302
    lot = Lot.objects.get(account=account)
    assert timezone.localtime(lot.expires_at).date() == day
    assert_ledger_consistent()


# --- Manual adjustments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        *(typed for typed in REFUSED_POINTS if typed != "-1"),  # -1 is a valid debit
        "-100001",
        "-2147483648",
        "-1e5",
        "--5",
        "+-5",
    ],
)
def test_an_adjustment_out_of_bounds_is_refused_next_to_the_field(staff_client, typed):
    account = funded_account(500)
    before = ledger_state()

    response = staff_client.post(adjust_url(account), {"points": typed, "reason": "Correction"})

    assert field_errors(response, "points")
    assert ledger_state() == before
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("typed", "balance"), [(" -12 ", 488), ("+12", 512), ("-500", 0), ("100000", 100_500)]
)
def test_an_adjustment_within_bounds_is_recorded(staff_client, typed, balance):
    account = funded_account(500)

    response = staff_client.post(adjust_url(account), {"points": typed, "reason": "Correction"})

    assert response.status_code == 302
    assert points_available(account=account) == balance
    assert_ledger_consistent()


def test_a_debit_larger_than_the_limit_is_refused_even_with_enough_points(staff_client, settings):
    settings.HELPDESK_MAX_POINTS_PER_OPERATION = 50
    account = funded_account(40)
    points_grant(account=account, points=40, reason="More", actor=None)
    before = ledger_state()

    response = staff_client.post(adjust_url(account), {"points": "-51", "reason": "Correction"})

    assert field_errors(response, "points") == "Ensure this value is greater than or equal to -50."
    assert ledger_state() == before


# --- The services refuse the same, whichever channel calls them --------------------------------


@pytest.mark.parametrize("points", [LIMIT + 1, 2**31, BIGINT_MAX, BIGINT_MAX + 1, 10**100])
def test_ledger_services_refuse_more_than_the_limit_in_one_operation(account, points):
    funded = funded_account(LIMIT)
    ticket = new_ticket(funded)
    hold_capture(ticket=ticket, points=10, at=T0)
    before = ledger_state()

    calls = [
        lambda: points_grant(account=account, points=points, reason="x", actor=None),
        lambda: points_adjust(account=funded, points=points, reason="x", actor=None),
        lambda: points_adjust(account=funded, points=-points, reason="x", actor=None),
        lambda: hold_capture(ticket=new_ticket(funded), points=points),
        lambda: hold_change(ticket=ticket, points=points, reason="x", actor=None),
    ]
    for call in calls:
        with pytest.raises(InvalidAmount, match="one operation may move"):
            call()
    assert ledger_state() == before
    assert_ledger_consistent()


@pytest.mark.parametrize("points", [True, 1.5, "12", Decimal("12"), None])
def test_ledger_services_refuse_what_is_not_a_whole_number(account, points):
    with pytest.raises(InvalidAmount):
        points_grant(account=account, points=points, reason="x", actor=None)
    with pytest.raises(InvalidAmount):
        points_adjust(account=account, points=points, reason="x", actor=None)
    assert not Lot.objects.exists()


def test_a_refund_is_bounded_by_what_was_deducted(account):
    points_grant(account=account, points=100, reason="x", actor=None, at=T0)
    hold = hold_capture(ticket=new_ticket(account), points=40, at=T0)
    hold_settle(ticket=hold.ticket, at=T0)

    for points in (41, LIMIT + 1, BIGINT_MAX + 1):
        with pytest.raises(InvalidAmount):
            hold_refund(ticket=hold.ticket, points=points, reason="x", actor=None, at=T0)
    assert_ledger_consistent()


def test_paid_points_are_recorded_above_the_limit_but_within_the_column(account):
    """A refusal after payment would lose the customer's money: the limit applies when points are
    put on sale, the column always."""
    lot = points_purchase(account=account, points=LIMIT * 10, payment_reference="pay-big")
    assert lot.points == LIMIT * 10

    with pytest.raises(InvalidAmount):
        points_purchase(account=account, points=BIGINT_MAX + 1, payment_reference="pay-huge")
    assert_ledger_consistent()


def test_a_package_above_the_limit_is_neither_offered_nor_sold(account):
    package = PointPackage.objects.create(name="Legacy", points=LIMIT + 1, price=Decimal("1"))
    on_sale = PointPackageFactory(points=LIMIT)

    assert list(packages_on_sale()) == [on_sale]
    with pytest.raises(InvalidAmount):
        order_create(
            account=account, package=package, backend="manual", actor=account_owner(account)
        )
    assert not account.orders.exists()


@pytest.mark.parametrize(
    "expires_at",
    [
        T0,
        T0 - days(1),
        datetime(1, 1, 1, tzinfo=UTC),
        T0 + days(3650) + timedelta(microseconds=1),
        datetime(9999, 12, 31, tzinfo=UTC),
        datetime(2030, 1, 1),  # no time zone
        date(2030, 1, 1),
    ],
)
def test_points_grant_refuses_an_expiry_in_the_past_or_beyond_the_setting(account, expires_at):
    with pytest.raises(InvalidExpiry):
        points_grant(
            account=account, points=10, reason="x", actor=None, at=T0, expires_at=expires_at
        )
    assert not Lot.objects.exists()


def test_points_grant_accepts_an_expiry_up_to_the_setting(account, settings):
    lot = points_grant(
        account=account, points=10, reason="x", actor=None, at=T0, expires_at=T0 + days(3650)
    )
    assert lot.expires_at == T0 + days(3650)

    settings.HELPDESK_MAX_GRANT_VALIDITY_DAYS = 10
    with pytest.raises(LedgerError, match="at most 10 days"):
        points_grant(
            account=account, points=10, reason="x", actor=None, at=T0, expires_at=T0 + days(11)
        )
    assert Lot.objects.get().kind == LotKind.GRANT


# --- Point packages -----------------------------------------------------------------------------

PACKAGES = "/admin/points/pointpackage/"


def package_form(**overrides) -> dict:
    return {
        "name": "Big pack",
        "points": "500",
        "price": "450.00",
        "currency": "USD",
        "position": "0",
        "is_active": "on",
        **overrides,
    }


def package_errors(response, field: str) -> str:
    assert response.status_code == 200
    return text(find(parse(response.content), "ul", id=f"id_{field}_error"))


@pytest.mark.parametrize("typed", [t for t in REFUSED_POINTS if t.strip()])
def test_a_package_of_points_out_of_bounds_is_refused_next_to_the_field(admin_client, typed):
    response = admin_client.post(PACKAGES + "add/", package_form(points=typed))

    assert package_errors(response, "points")
    assert not PointPackage.objects.exists()


@pytest.mark.parametrize(
    "typed",
    [
        "-1",
        "-0.01",
        "1e5",
        "NaN",
        "Infinity",
        "1,000.00",
        "12.345",
        "10000000000.00",
        "9" * 100_000,
        "١٢",
        "0x10",
        "12\x00",
    ],
)
def test_a_package_price_out_of_bounds_is_refused_next_to_the_field(admin_client, typed):
    response = admin_client.post(PACKAGES + "add/", package_form(price=typed))

    assert package_errors(response, "price")
    assert not PointPackage.objects.exists()


@pytest.mark.parametrize("typed", ["2147483648", "-1", "1e5", "9" * 1000])
def test_a_package_position_out_of_its_column_is_refused(admin_client, typed):
    response = admin_client.post(PACKAGES + "add/", package_form(position=typed))

    assert package_errors(response, "position")
    assert not PointPackage.objects.exists()


def test_a_package_within_bounds_is_saved(admin_client):
    response = admin_client.post(
        PACKAGES + "add/", package_form(points=" 100000 ", price=" 9999999999.99 ")
    )

    assert response.status_code == 302
    package = PointPackage.objects.get()
    assert (package.points, package.price) == (LIMIT, Decimal("9999999999.99"))


# --- Admin lists: ids and dates in the query string ----------------------------------------------

# Every admin list with a date drill-down, django-axes' included: (list, date field).
DATED_LISTS = [
    (f"/admin/{model._meta.app_label}/{model._meta.model_name}/", model_admin.date_hierarchy)
    for model, model_admin in admin.site._registry.items()
    if model_admin.date_hierarchy
]


@pytest.mark.parametrize("changelist", DATED_LISTS)
@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=9999",
        "created_at__year=9999&created_at__month=12",
        "created_at__year=9999&created_at__month=12&created_at__day=31",
        "created_at__year=10000",
        "created_at__year=0",
        "created_at__year=99999999999999999999",
        "created_at__year=" + "9" * 5000,
        "created_at__year=-1",
        "created_at__year=²",
        "created_at__year=٢٠٢٧",
        "created_at__year=2027&created_at__month=13",
        "created_at__year=2027&created_at__month=0",
        "created_at__year=2027&created_at__month=2&created_at__day=30",
        "created_at__year=2027&created_at__month=99999999999999999999",
        "created_at__month=99999999999999999999",
        "created_at__day=2147483648",
    ],
)
def test_an_impossible_date_in_a_list_drill_down_reloads_the_list_without_it(
    admin_client, changelist, query
):
    changelist, field = changelist
    response = admin_client.get(f"{changelist}?{query.replace('created_at', field)}")

    assert response.status_code == 302
    assert response["Location"] == f"{changelist}?e=1"


@pytest.mark.parametrize("changelist", DATED_LISTS)
@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=1",
        "created_at__year=9998&created_at__month=12&created_at__day=31",
        "created_at__year=2027&created_at__month=2&created_at__day=28",
    ],
)
def test_the_earliest_and_latest_dates_a_drill_down_can_show_list_nothing(
    admin_client, changelist, query
):
    funded_account(100)
    changelist, field = changelist

    response = admin_client.get(f"{changelist}?{query.replace('created_at', field)}")

    assert response.status_code == 200
    assert not find_all(parse(response.content), "table", id="result_list")


@pytest.mark.parametrize(
    "changelist",
    ["/admin/points/lot/", "/admin/points/hold/", "/admin/points/entry/", "/admin/points/order/"],
)
@pytest.mark.parametrize(
    "account_id",
    ["0", "-1", "99999999999999999999", "9223372036854775808", "²", "١", "1e5", "%00", " "],
)
def test_an_account_filter_with_no_such_account_lists_nothing(staff_client, changelist, account_id):
    account = funded_account(100)
    file_ticket(account)
    order_create(
        account=account,
        package=PointPackageFactory(),
        backend="manual",
        actor=account_owner(account),
    )

    shown = staff_client.get(f"{changelist}?account__id__exact={account.pk}")
    response = staff_client.get(f"{changelist}?account__id__exact={account_id}")

    assert shown.status_code == response.status_code == 200
    assert find_all(parse(shown.content), "table", id="result_list")
    assert not find_all(parse(response.content), "table", id="result_list")


# --- Whatever is typed ---------------------------------------------------------------------------

TYPED_NUMBERS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789+-. e,", max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1]).map(str),
)


@given(typed=TYPED_NUMBERS)
@hypothesis_settings(max_examples=300, deadline=None)
def test_any_text_typed_as_points_is_refused_or_read_exactly(typed):
    form = AdjustPointsForm({"points": typed, "reason": "Correction"})

    if form.is_valid():
        points = form.cleaned_data["points"]
        assert points == int(typed.strip())
        assert typed.strip().lstrip("+-").isascii()
        assert 0 < abs(points) <= LIMIT
    else:
        assert form.errors["points"]


@given(typed=st.one_of(st.dates().map(date.isoformat), st.text(max_size=30)))
@hypothesis_settings(max_examples=300, deadline=None)
def test_any_text_typed_as_a_grant_expiry_is_refused_or_within_ten_years(typed):
    form = GrantPointsForm({"points": "10", "reason": "Goodwill", "expires_on": typed})

    if form.is_valid() and form.cleaned_data["expires_on"] is not None:
        assert today() < form.cleaned_data["expires_on"] <= today() + timedelta(days=3650)
        assert form.expires_at() > timezone.now()
