"""Customer accounts, the ledger and orders in the admin, as a "Support staff" member.

Grants, manual adjustments and marking orders paid go through the ledger services with a reason;
lots, holds and journal entries can only be looked at.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from points.models import (
    Entry,
    EntryKind,
    Hold,
    Lot,
    LotKind,
    OrderStatus,
    PointPackage,
)
from points.payments import PaymentBackend
from points.services import order_create
from tests.admin_support import (
    SUPPORT_STAFF,
    assert_ledger_clean,
    balance,
    file_ticket,
    funded_account,
    messages_of,
    support_staff_user,
)
from tests.factories import (
    AccountFactory,
    PointPackageFactory,
    StaffUserFactory,
    UserFactory,
    account_owner,
)
from tests.html import find, find_all, parse, text
from tickets.services import ticket_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return support_staff_user(email="sam@helpdesk.example.com")


@pytest.fixture
def client(client, staff):
    client.force_login(staff)
    return client


def grant_url(account):
    return reverse("admin:points_account_grant", args=[account.pk])


def adjust_url(account):
    return reverse("admin:points_account_adjust", args=[account.pk])


def ledger_state():
    return (
        Lot.objects.count(),
        Entry.objects.count(),
        list(Lot.objects.order_by("id").values_list("remaining", flat=True)),
    )


def test_the_support_staff_group_has_exactly_the_permissions_of_this_work():
    group = Group.objects.get(name=SUPPORT_STAFF)
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == {
        ("catalog", "view_categorygroup"),
        ("catalog", "view_issuecategory"),
        ("accounts", "view_account"),
        ("accounts", "view_membership"),
        ("points", "view_lot"),
        ("points", "view_hold"),
        ("points", "view_holdallocation"),
        ("points", "view_entry"),
        ("points", "view_order"),
        ("points", "grant_points"),
        ("points", "adjust_points"),
        ("points", "mark_order_paid"),
        ("tickets", "view_ticket"),
        ("tickets", "change_ticket"),
        ("tickets", "add_message"),
        ("tickets", "change_ticket_cost"),
        ("tickets", "view_access_details"),
    }


# --- Accounts ---------------------------------------------------------------------------------


def test_account_list_shows_balance_captured_and_next_expiry(client):
    account = funded_account(500, name="Jones Hardware Ltd")
    file_ticket(account)  # captures 40

    page = parse(client.get("/admin/accounts/account/").content)

    row = find(find(page, "table", id="result_list"), "tbody")
    assert text(find(row, None, class_="field-name")) == "Jones Hardware Ltd"
    assert text(find(row, None, class_="field-owner")) == account_owner(account).email
    assert text(find(row, None, class_="field-available")) == "460"
    assert text(find(row, None, class_="field-captured")) == "40"
    assert text(find(row, None, class_="field-next_expiry")) != "-"


def test_account_list_query_count_does_not_grow_with_the_page(client):
    def make(count):
        for _ in range(count):
            file_ticket(funded_account(100))

    make(3)
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/accounts/account/")
    make(30)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/admin/accounts/account/")
    rows = find_all(find(parse(response.content), "table", id="result_list"), "tr")
    assert len(rows) == 1 + 33
    assert len(many.captured_queries) == len(few.captured_queries)


def test_account_page_shows_points_links_to_the_ledger_and_grant_buttons(client):
    account = funded_account(500)
    file_ticket(account)

    response = client.get(f"/admin/accounts/account/{account.pk}/change/")

    assert response.status_code == 200
    page = parse(response.content)
    summary = text(find(page, None, class_="field-points"))
    assert "460 available" in summary
    assert "40 captured for tickets" in summary
    assert "460 points on" in summary
    links = {text(a): dict(a.attributes)["href"] for a in find_all(page, "a")}
    assert links["Journal entries"] == f"/admin/points/entry/?account__id__exact={account.pk}"
    assert links["Lots"] == f"/admin/points/lot/?account__id__exact={account.pk}"
    assert links["Grant points"] == grant_url(account)
    assert links["Manual adjustment"] == adjust_url(account)
    assert "Welcome points" in text(find(page, None, class_="field-recent_entries"))
    # Support staff can't rename accounts or edit memberships: the page is read-only.
    assert not find_all(page, "input", name="name")


def test_account_page_journal_signs_every_change_of_available_and_captured_points(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account)
    ticket_resolve(ticket=ticket, actor=staff, reason="Solved")

    page = parse(client.get(f"/admin/accounts/account/{account.pk}/change/").content)

    table = find(find(page, None, class_="field-recent_entries"), "table")
    header = [text(cell) for cell in find_all(find(table, "thead"), "th")]
    assert header == ["when", "kind", "available ±", "captured ±", "by", "reason"]
    rows = [[text(cell) for cell in find_all(row, "td")] for row in find_all(table, "tr")[1:]]
    assert [row[1:4] for row in rows] == [
        ["deducted for a ticket", "—", "−40"],
        ["captured for a ticket", "−40", "+40"],
        ["grant", "+500", "—"],
    ]


def test_account_users_are_chosen_with_a_search_not_a_raw_id(client, admin_user):
    account = funded_account(0)
    client.force_login(admin_user)

    page = parse(client.get(f"/admin/accounts/account/{account.pk}/change/").content)

    assert find(page, "select", name="memberships-0-user", class_="admin-autocomplete")
    assert not find_all(page, "input", class_="vForeignKeyRawIdAdminField")
    owner = account_owner(account)
    search = client.get(
        "/admin/autocomplete/",
        {
            "term": owner.email,
            "app_label": "accounts",
            "model_name": "membership",
            "field_name": "user",
        },
    )
    assert [result["text"] for result in search.json()["results"]] == [str(owner)]


def test_grant_points_with_a_reason(client, staff):
    account = funded_account(0)

    response = client.post(
        grant_url(account),
        {"points": "100", "reason": "Sorry for the outage last week."},
        follow=True,
    )

    assert messages_of(response) == [f"Granted 100 points to {account}."]
    assert balance(account) == (100, 0)
    lot = Lot.objects.get(account=account)
    assert lot.kind == LotKind.GRANT
    entry = Entry.objects.get(lot=lot)
    assert (entry.kind, entry.amount, entry.actor, entry.reason) == (
        EntryKind.GRANT,
        100,
        staff,
        "Sorry for the outage last week.",
    )
    assert_ledger_clean()


def test_grant_points_with_an_expiry_date(client):
    account = funded_account(0)
    day = (timezone.localdate() + timedelta(days=60)).isoformat()

    client.post(grant_url(account), {"points": "50", "reason": "Trial", "expires_on": day})

    lot = Lot.objects.get(account=account)
    assert timezone.localtime(lot.expires_at).date().isoformat() == day
    assert_ledger_clean()


@pytest.mark.parametrize(
    ("data", "field"),
    [({"points": "100", "reason": "  "}, "reason"), ({"points": "0", "reason": "x"}, "points")],
)
def test_a_grant_form_with_errors_shows_them_at_the_fields(client, data, field):
    account = funded_account(0)

    response = client.post(grant_url(account), data)

    assert response.status_code == 200
    page = parse(response.content)
    assert text(find(page, "p", class_="errornote")) == "Please correct the errors below."
    assert find(find(page, "div", class_=f"field-{field}"), "ul", class_="errorlist")
    assert find(page, "input", name="points").attributes.count(("value", data["points"])) == 1
    assert Lot.objects.count() == 0


def test_a_grant_expiring_in_the_past_is_refused_at_the_field_and_changes_nothing(client):
    account = funded_account(0)

    response = client.post(
        grant_url(account), {"points": "100", "reason": "x", "expires_on": "2001-01-01"}
    )

    assert response.status_code == 200
    errors = find(find(parse(response.content), "div", class_="field-expires_on"), "ul")
    assert text(errors) == "Choose a day after today."
    assert Lot.objects.count() == 0


def test_manual_adjustment_up_and_down(client, staff):
    account = funded_account(100)

    response = client.post(
        adjust_url(account), {"points": "30", "reason": "Paid by cheque"}, follow=True
    )
    assert messages_of(response) == [f"Adjusted {account} by 30 points."]
    assert balance(account) == (130, 0)

    client.post(adjust_url(account), {"points": "-50", "reason": "Double credit by mistake"})
    assert balance(account) == (80, 0)
    debit = Entry.objects.get(kind=EntryKind.ADJUSTMENT_DEBIT)
    assert (debit.amount, debit.actor, debit.reason) == (50, staff, "Double credit by mistake")
    assert_ledger_clean()


def test_a_negative_adjustment_beyond_the_balance_is_refused(client):
    account = funded_account(100)
    before = ledger_state()

    response = client.post(adjust_url(account), {"points": "-150", "reason": "Chargeback"})

    assert response.status_code == 200
    assert messages_of(response) == [
        "Not enough support points: 150 needed, 100 available. 50 more points are needed."
    ]
    assert ledger_state() == before
    assert_ledger_clean()


def test_an_adjustment_of_zero_is_refused(client):
    account = funded_account(100)
    before = ledger_state()
    response = client.post(adjust_url(account), {"points": "0", "reason": "x"})
    assert "An adjustment of 0 points changes nothing." in text(parse(response.content))
    assert ledger_state() == before


# --- Lots, holds and entries are read-only ----------------------------------------------------


@pytest.mark.parametrize("model", ["lot", "hold", "entry"])
def test_ledger_rows_can_be_looked_at_but_never_edited(client, model):
    account = funded_account(500)
    file_ticket(account)
    row = {"lot": Lot, "hold": Hold, "entry": Entry}[model].objects.filter(account=account).first()
    base = f"/admin/points/{model}/"

    listing = client.get(base, {"account__id__exact": account.pk})
    assert listing.status_code == 200
    assert not find_all(parse(listing.content), "select", name="action")

    detail = client.get(f"{base}{row.pk}/change/")
    assert detail.status_code == 200
    page = parse(detail.content)
    assert not find_all(page, "input", type="submit")
    assert not find_all(page, "input", name="amount")
    assert not find_all(page, "input", name="remaining")

    assert (
        client.post(f"{base}{row.pk}/change/", {"amount": "1", "remaining": "1"}).status_code == 403
    )
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert_ledger_clean()


def test_even_a_superuser_cannot_edit_ledger_rows(client, admin_user):
    account = funded_account(500)
    lot = Lot.objects.get(account=account)
    client.force_login(admin_user)
    assert client.post(f"/admin/points/lot/{lot.pk}/change/", {"remaining": "1"}).status_code == 403
    lot.refresh_from_db()
    assert lot.remaining == 500


def test_journal_lists_entries_of_one_account_with_signed_changes(client):
    account = funded_account(500)
    other = funded_account(70)
    ticket = file_ticket(account)

    page = parse(client.get("/admin/points/entry/", {"account__id__exact": account.pk}).content)

    rows = find_all(find(find(page, "table", id="result_list"), "tbody"), "tr")
    changes = [text(find(row, None, class_="field-available_change")) for row in rows]
    assert changes == ["−40", "+500"]
    captured = [text(find(row, None, class_="field-captured_change")) for row in rows]
    assert captured == ["+40", "—"]
    assert f"#{ticket.pk}" in text(rows[0])
    assert str(other) not in text(find(page, "table", id="result_list"))


# --- Orders -----------------------------------------------------------------------------------


def manual_order(account=None, points=500):
    account = account or AccountFactory()
    package = PointPackageFactory(points=points)
    return order_create(
        account=account,
        package=package,
        backend=PaymentBackend.MANUAL,
        actor=account_owner(account),
    )


def mark_paid_url(order):
    return reverse("admin:points_order_mark_paid", args=[order.pk])


def test_mark_a_manual_order_paid(client, staff):
    order = manual_order(points=500)

    page = parse(client.get(f"/admin/points/order/{order.pk}/change/").content)
    assert find(page, "a", href=mark_paid_url(order))

    response = client.post(
        mark_paid_url(order), {"payment_reference": "BANK-2024-0042"}, follow=True
    )

    assert messages_of(response) == [
        f"Order #{order.pk} marked paid (reference BANK-2024-0042): 500 points added to "
        f"{order.account}."
    ]
    order.refresh_from_db()
    assert (order.status, order.payment_reference) == (OrderStatus.PAID, "BANK-2024-0042")
    lot = Lot.objects.get(order=order)
    assert (lot.kind, lot.points) == (LotKind.PURCHASE, 500)
    assert Entry.objects.get(lot=lot).actor == staff
    assert balance(order.account) == (500, 0)
    assert_ledger_clean()


def test_a_payment_reference_pays_one_order_only(client, staff):
    first, second = manual_order(), manual_order()
    client.post(mark_paid_url(first), {"payment_reference": "BANK-1"}, follow=True)
    before = ledger_state()

    response = client.post(mark_paid_url(second), {"payment_reference": "BANK-1"})

    assert messages_of(response) == ["Payment reference BANK-1 belongs to another order."]
    second.refresh_from_db()
    assert second.status == OrderStatus.PENDING
    assert ledger_state() == before
    assert_ledger_clean()


def test_orders_of_other_backends_are_not_marked_paid_by_hand(client):
    account = AccountFactory()
    order = order_create(
        account=account,
        package=PointPackageFactory(),
        backend=PaymentBackend.WEBHOOK,
        actor=account_owner(account),
    )

    response = client.post(mark_paid_url(order), {"payment_reference": "X"})

    assert messages_of(response) == [
        f"Order #{order.pk} is paid through payment provider, not by hand."
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not Lot.objects.exists()


def test_orders_cannot_be_edited_or_added(client):
    order = manual_order()
    assert client.get("/admin/points/order/add/").status_code == 403
    assert (
        client.post(f"/admin/points/order/{order.pk}/change/", {"points": "9999"}).status_code
        == 403
    )
    order.refresh_from_db()
    assert order.points == 500


def test_point_packages_are_edited_by_whoever_holds_the_permission(client, admin_user):
    PointPackageFactory(name="Starter", points=100)
    assert client.get("/admin/points/pointpackage/").status_code == 403
    client.force_login(admin_user)
    response = client.post(
        "/admin/points/pointpackage/add/",
        {
            "name": "Big",
            "points": "1000",
            "price": "900.00",
            "currency": "USD",
            "position": "2",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert PointPackage.objects.filter(name="Big", points=1000).exists()


# --- Permissions ------------------------------------------------------------------------------


def test_customers_are_sent_to_the_admin_login(client):
    account = funded_account(100)
    order = manual_order(account)
    client.force_login(account_owner(account))
    for response in [
        client.get("/admin/"),
        client.get("/admin/accounts/account/"),
        client.post(grant_url(account), {"points": "1000", "reason": "me"}),
        client.post(adjust_url(account), {"points": "1000", "reason": "me"}),
        client.post(mark_paid_url(order), {"payment_reference": "free"}),
    ]:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert balance(account) == (100, 0)


def test_staff_without_the_group_get_403(client):
    account = funded_account(100)
    order = manual_order(account)
    client.force_login(StaffUserFactory())
    assert client.get("/admin/accounts/account/").status_code == 403
    assert client.get("/admin/points/entry/").status_code == 403
    assert client.get(grant_url(account)).status_code == 403
    assert client.post(grant_url(account), {"points": "1000", "reason": "x"}).status_code == 403
    assert client.post(adjust_url(account), {"points": "-100", "reason": "x"}).status_code == 403
    assert client.post(mark_paid_url(order), {"payment_reference": "R"}).status_code == 403
    assert balance(account) == (100, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_grant_needs_its_own_permission(client):
    """Seeing accounts is not enough to give points away."""
    account = funded_account(0)
    viewer = StaffUserFactory()
    viewer.user_permissions.add(
        *Group.objects.get(name=SUPPORT_STAFF).permissions.filter(codename="view_account")
    )
    client.force_login(viewer)
    assert client.get(f"/admin/accounts/account/{account.pk}/change/").status_code == 200
    assert client.post(grant_url(account), {"points": "10", "reason": "x"}).status_code == 403
    assert not Lot.objects.exists()


def test_a_customer_cannot_be_made_staff_in_the_admin(client, admin_user):
    customer = UserFactory(email="pat@jones.example.com")
    AccountFactory(owner=customer, name="Jones Hardware Ltd")
    client.force_login(admin_user)

    response = client.post(
        f"/admin/helpdesk/user/{customer.pk}/change/",
        {
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )

    assert response.status_code == 200
    assert "Jones Hardware Ltd uses this login as a customer; customers cannot be staff." in text(
        parse(response.content)
    )
    customer.refresh_from_db()
    assert not customer.is_staff


def test_staff_cannot_be_added_as_users_of_a_customer_account(client, admin_user):
    account = AccountFactory()
    agent = StaffUserFactory()
    client.force_login(admin_user)

    response = client.post(
        f"/admin/accounts/account/{account.pk}/change/",
        {
            "name": account.name,
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": account.memberships.get().pk,
            "memberships-0-account": account.pk,
            "memberships-0-user": account_owner(account).pk,
            "memberships-0-role": "owner",
            "memberships-1-account": account.pk,
            "memberships-1-user": agent.pk,
            "memberships-1-role": "member",
        },
    )

    assert response.status_code == 200
    assert "Staff members can't be users of a customer account." in text(parse(response.content))
    assert account.memberships.count() == 1
