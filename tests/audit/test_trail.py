"""The audit trail: one row for every staff action, with who, what, which object, before/after and
the client address; append-only in the admin and in the database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, transaction
from django.urls import reverse

from audit.models import AuditEvent, AuditKind
from points.payments import PaymentBackend
from points.services import order_create, order_mark_paid, points_adjust, points_grant
from tests.admin_support import file_ticket, funded_account, support_staff_user, ticket_url
from tests.factories import (
    AccountFactory,
    PointPackageFactory,
    StaffUserFactory,
    UserFactory,
    account_owner,
)
from tests.web import category, customer
from tickets import services

pytestmark = pytest.mark.django_db

SATURDAY = datetime(2027, 3, 13, 10, 0, tzinfo=UTC)


@pytest.fixture
def staff():
    return support_staff_user(email="sam@helpdesk.example.com")


def only_event(kind: str) -> AuditEvent:
    return AuditEvent.objects.get(kind=kind)


def file(category_name: str = "Incident solving", **options):
    account, user = customer(500)
    return services.ticket_file(
        account=account,
        filed_by=user,
        category=category(category_name),
        subject="Checkout is broken",
        description="Customers see a blank page.",
        **options,
    )


def test_cost_change_records_before_and_after(staff):
    ticket = file()

    services.ticket_change_cost(
        ticket=ticket, points=60, reason="Harder than it looked", actor=staff
    )

    event = only_event(AuditKind.COST_CHANGED)
    assert (event.actor, event.account_id, event.object_id) == (
        staff,
        ticket.account_id,
        str(ticket.pk),
    )
    assert event.changes == {"points": [40, 60], "outside_bounds": False}
    assert event.reason == "Harder than it looked"
    assert event.client_address is None  # not in a request


def test_time_logged_records_the_new_cost(staff):
    ticket = file("Google Analytics setup")

    services.ticket_log_time(ticket=ticket, minutes=90, note="Set up goals", actor=staff)

    assert only_event(AuditKind.TIME_LOGGED).changes == {"minutes": 90, "points": [60, 90]}


def test_quote_is_recorded(staff):
    ticket = file("Other issues")

    services.ticket_set_quote(ticket=ticket, points=70, note="Two hours", actor=staff)

    assert only_event(AuditKind.QUOTE_SET).changes == {"points": 70}


def test_resolution_and_software_bug_are_recorded(staff):
    resolved, bug = file(), file()

    services.ticket_resolve(ticket=resolved, actor=staff, reason="Fixed")
    services.ticket_mark_software_bug(ticket=bug, actor=staff, reason="Our bug")

    assert only_event(AuditKind.TICKET_RESOLVED).changes == {"points_deducted": 40}
    assert only_event(AuditKind.SOFTWARE_BUG).changes == {"points_returned": 40}
    assert only_event(AuditKind.SOFTWARE_BUG).object_id == str(bug.pk)


def test_reconsideration_decision_is_recorded(staff):
    ticket = file()
    asked = services.ticket_request_reconsideration(
        ticket=ticket, actor=account_owner(ticket.account), message="Too much"
    )

    services.ticket_decide_reconsideration(
        reconsideration=asked, actor=staff, reason="Fair point", new_points=20
    )

    assert only_event(AuditKind.RECONSIDERATION_DECIDED).changes == {
        "decision": "lowered",
        "points": 20,
    }


def test_urgency_removed_by_staff_is_recorded_but_not_by_the_customer(staff):
    by_staff, by_customer = file(is_urgent=True), file(is_urgent=True)

    services.ticket_remove_urgency(ticket=by_staff, actor=staff, reason="A bug")
    services.ticket_remove_urgency(ticket=by_customer, actor=account_owner(by_customer.account))

    event = only_event(AuditKind.URGENCY_REMOVED)
    assert (event.object_id, event.changes) == (str(by_staff.pk), {"points": [80, 40]})


def test_grant_and_adjustment_are_recorded(staff):
    account = AccountFactory()

    lot = points_grant(account=account, points=100, reason="Goodwill", actor=staff)
    points_adjust(account=account, points=-30, reason="Typo", actor=staff)

    grant = only_event(AuditKind.POINTS_GRANTED)
    assert (grant.account_id, grant.object_id, grant.changes["points"]) == (
        account.pk,
        str(lot.pk),
        100,
    )
    adjustment = only_event(AuditKind.POINTS_ADJUSTED)
    assert (adjustment.account_id, adjustment.changes, adjustment.reason) == (
        account.pk,
        {"points": -30},
        "Typo",
    )


def test_a_refused_action_leaves_no_row(staff):
    account = AccountFactory()
    with pytest.raises(Exception, match="points"):
        points_adjust(account=account, points=-30, reason="More than there is", actor=staff)
    assert not AuditEvent.objects.exists()


def test_order_marked_paid_by_staff_is_recorded_and_a_provider_payment_is_not(staff):
    account = AccountFactory()
    by_staff, by_provider = (
        order_create(
            account=account,
            package=PointPackageFactory(points=100),
            backend=PaymentBackend.MANUAL,
            actor=account_owner(account),
        )
        for _ in range(2)
    )

    order_mark_paid(order=by_staff, payment_reference="BANK-1", actor=staff, by_staff=True)
    order_mark_paid(order=by_provider, payment_reference="PSP-2")

    event = only_event(AuditKind.ORDER_MARKED_PAID)
    assert (event.object_id, event.changes) == (
        str(by_staff.pk),
        {"points": 100, "payment_reference": "BANK-1"},
    )


def test_an_access_details_view_in_the_admin_records_the_client_address(client, staff):
    ticket = file_ticket()
    services.access_details_set(
        ticket=ticket,
        actor=account_owner(ticket.account),
        host="shop.example.com",
        login="admin",
        password="s3cret-Pa55",
    )
    client.force_login(staff)

    client.post(ticket_url(ticket, "access_details"), REMOTE_ADDR="203.0.113.9")

    event = only_event(AuditKind.ACCESS_DETAILS_VIEWED)
    assert (event.actor, event.client_address) == (staff, "203.0.113.9")


def test_user_and_permission_changes_in_the_admin_are_recorded_without_personal_values(client):
    admin_user = StaffUserFactory(is_superuser=True)
    client.force_login(admin_user)
    user = UserFactory(email="pat@example.com", first_name="Pat", last_name="Doe")
    group = Group.objects.get(name="Support staff")
    form = {
        "email": "pat.new@example.com",
        "first_name": "Pat",
        "last_name": "Doe",
        "is_active": "on",
        "is_staff": "on",
        "groups": [group.pk],
        "date_joined_0": "2027-01-01",
        "date_joined_1": "00:00:00",
    }

    response = client.post(reverse("admin:helpdesk_user_change", args=[user.pk]), form)

    assert response.status_code == 302, response.content[:2000]
    event = only_event(AuditKind.PERMISSIONS_CHANGED)
    assert event.changes == {
        "email": "changed",
        "is_staff": [False, True],
        "groups": [[], ["Support staff"]],
    }
    assert "pat" not in str(event.changes)


def test_an_account_and_its_users_changed_in_the_admin_are_recorded(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    account = AccountFactory(name="Acme Widgets")
    owner = account_owner(account)
    [membership] = account.memberships.all()
    newcomer = UserFactory(email="newcomer@example.com")
    form = {
        "name": "Acme Widgets Europe",
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": membership.pk,
        "memberships-0-account": account.pk,
        "memberships-0-user": owner.pk,
        "memberships-0-role": "owner",
        "memberships-1-account": account.pk,
        "memberships-1-user": newcomer.pk,
        "memberships-1-role": "member",
    }

    response = client.post(reverse("admin:accounts_account_change", args=[account.pk]), form)

    assert response.status_code == 302, response.content[:3000]
    event = only_event(AuditKind.ACCOUNT_CHANGED)
    assert (event.account_id, event.changes) == (
        account.pk,
        {"name": "changed", "users_added": {str(newcomer.pk): "member"}},
    )
    assert "Acme" not in str(event.changes)


def test_a_group_permission_change_is_recorded(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    group = Group.objects.create(name="Auditors")
    permission = Permission.objects.get(codename="view_auditevent")

    client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Auditors", "permissions": [permission.pk]},
    )

    event = only_event(AuditKind.PERMISSIONS_CHANGED)
    assert event.changes == {"permissions": [[], ["audit.view_auditevent"]]}


# --- Browsing, filtering, exporting -----------------------------------------------------------


@pytest.fixture
def auditor(client):
    user = StaffUserFactory(email="auditor@helpdesk.example.com")
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client.force_login(user)
    return user


def some_events(staff):
    first, second = funded_account(points=0), funded_account(points=0)
    points_grant(account=first, points=10, reason='=HYPERLINK("x")', actor=staff)
    points_grant(account=second, points=20, reason="Welcome", actor=None)
    points_adjust(account=first, points=5, reason="Fix", actor=staff)
    return first, second


def test_the_trail_lists_and_filters_by_person_kind_account(client, auditor, staff):
    first, _second = some_events(staff)
    url = reverse("admin:audit_auditevent_changelist")

    assert client.get(url).context["cl"].result_count == 3
    by_person = client.get(url, {"actor__id__exact": staff.pk}).context["cl"]
    assert by_person.result_count == 2
    by_kind = client.get(url, {"kind__exact": AuditKind.POINTS_GRANTED}).context["cl"]
    assert by_kind.result_count == 2
    by_account = client.get(url, {"account": first.pk}).context["cl"]
    assert by_account.result_count == 2
    assert client.get(url, {"account": "1' OR 1=1"}).context["cl"].result_count == 0
    by_date = client.get(url, {"created_at__year": "1999"}).context["cl"]
    assert by_date.result_count == 0


def test_the_list_makes_a_bounded_number_of_queries(
    client, auditor, staff, django_assert_max_num_queries
):
    for _ in range(3):
        some_events(staff)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 200


def test_the_csv_export_follows_the_filters_and_defuses_formulas(client, auditor, staff):
    some_events(staff)

    response = client.get(
        reverse("admin:audit_auditevent_export"), {"kind__exact": AuditKind.POINTS_GRANTED}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["when", "who", "what"]
    assert [row[2] for row in rows[1:]] == ["points_granted", "points_granted"]
    assert {row[1] for row in rows[1:]} == {"sam@helpdesk.example.com", ""}
    assert '\'=HYPERLINK("x")' in [row[6] for row in rows[1:]]


def test_staff_without_the_permission_neither_browse_nor_export(client, staff):
    client.force_login(staff)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_export")).status_code == 403


def test_nothing_in_the_admin_adds_changes_or_deletes_a_row(client, staff):
    some_events(staff)
    client.force_login(StaffUserFactory(is_superuser=True))
    event = AuditEvent.objects.first()

    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    change = client.post(
        reverse("admin:audit_auditevent_change", args=[event.pk]), {"reason": "rewritten"}
    )
    assert change.status_code == 403
    delete = client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert delete.status_code == 403
    bulk = client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert AuditEvent.objects.count() == 3
    assert bulk.status_code in (200, 302)


def test_the_database_refuses_to_change_or_delete_a_row(staff):
    some_events(staff)
    for attempt in (
        lambda: AuditEvent.objects.update(reason="rewritten"),
        lambda: AuditEvent.objects.all().delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert AuditEvent.objects.filter(reason="rewritten").count() == 0
