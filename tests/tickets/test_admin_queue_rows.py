"""The queue's lean rows (`tickets.admin.queue_rows`) are exactly what Django's `items_for_result`
renders for the same changelist: every column, link, class and escape, with filters, search and
sorting preserved in the links, and with an action's checkbox column."""

from datetime import datetime, timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import (
    items_for_result,
    result_headers,
    result_list,
)
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext_lazy

from core.admin import BoundedDateHierarchyChangeList
from points.models import HoldStatus
from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.factories import IssueCategoryFactory, TicketFactory
from tickets.admin import TicketAdmin
from tickets.admin.queue import QueueChangeList, choice_label, short_time
from tickets.admin.queue_rows import lean_format_html, queue_result_list, queue_rows
from tickets.models import Ticket, TicketStatus
from tickets.services import ticket_assign, ticket_mark_software_bug, ticket_reply, ticket_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return support_staff_user(email="sam@helpdesk.example.com", first_name="Sam")


@pytest.fixture
def tickets(staff):
    """Every kind of row the queue shows: each hold state and none, urgent, assigned or not, the
    first response overdue, due soon, due later, answered on time or late, or waited for by
    nothing; and text that must be escaped."""
    now = timezone.now()
    account = funded_account(points=5000, name='Smith & "Sons" <Ltd>')
    open_hold = file_ticket(account, subject="<b>Checkout</b> & 'cart'", is_urgent=True)
    ticket_assign(ticket=open_hold, assignee=staff, actor=staff)
    answered = file_ticket(account, IssueCategoryFactory(hourly=True))
    ticket_reply(ticket=answered, author=staff, body="On it.")
    resolved = file_ticket(account, IssueCategoryFactory(minimum=True, points=120))
    ticket_resolve(ticket=resolved, actor=staff, reason="Fixed")
    returned = file_ticket(account, IssueCategoryFactory(range=True, points=60, max_points=2040))
    ticket_mark_software_bug(ticket=returned, actor=staff, reason="Our bug")
    TicketFactory(subject="Overdue", first_response_due_at=now - timedelta(hours=3))
    TicketFactory(subject="Soon", first_response_due_at=now + timedelta(minutes=30))
    TicketFactory(subject="Later", first_response_due_at=now + timedelta(days=3))
    TicketFactory(
        subject="Late",
        first_response_due_at=now - timedelta(days=40),
        first_response_at=now - timedelta(days=39),
        last_activity_at=now - timedelta(days=400),
    )
    TicketFactory(subject="Cancelled", status=TicketStatus.CANCELLED)
    return Ticket.objects.all()


def changelist(staff, query="", model_admin=None):
    request = RequestFactory().get("/admin/tickets/ticket/" + query)
    request.user = staff
    # The links keep the list's filters only on the changelist's own URL.
    request.resolver_match = resolve("/admin/tickets/ticket/")
    model_admin = model_admin or admin.site._registry[Ticket]
    return model_admin.get_changelist_instance(request)


def django_rows(cl):
    return ["".join(items_for_result(cl, result, None)) for result in cl.result_list]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status=active",
        "?o=-2.9",
        "?q=checkout&sla=awaiting",
        "?assignee=me&is_urgent__exact=1",
        "?sla=answered&o=5",
    ],
)
def test_the_rows_are_djangos_rows(staff, tickets, query):
    cl = changelist(staff, query)

    rows = queue_rows(cl)

    assert rows == django_rows(cl)
    assert len(rows) == cl.result_count
    if query:
        assert "_changelist_filters=" in rows[0]


def test_the_rows_are_djangos_in_another_language(staff, tickets):
    with translation.override("de"):
        cl = changelist(staff)
        assert queue_rows(cl) == django_rows(cl)


def test_the_action_checkbox_column_is_djangos(staff, tickets):
    @admin.action(description="Look")
    def look(model_admin, request, queryset):
        pass

    class TicketAdminWithAnAction(TicketAdmin):
        actions = [look]

    cl = changelist(staff, "?status=active", TicketAdminWithAnAction(Ticket, admin.site))

    assert cl.list_display[0] == "action_checkbox"
    assert queue_rows(cl) == django_rows(cl)


def test_the_table_is_djangos_with_one_string_per_row(staff, tickets):
    cl = changelist(staff, "?o=-2")
    cl.formset = None  # as `changelist_view` sets it for a list without editable fields

    ours, djangos = queue_result_list(cl), result_list(cl)

    assert ours.keys() == djangos.keys()
    assert ours["result_headers"] == djangos["result_headers"]
    assert ours["num_sorted_fields"] == djangos["num_sorted_fields"] == 1
    assert ours["result_hidden_fields"] == djangos["result_hidden_fields"] == []
    assert [list(row) for row in ours["results"]] == [["".join(row)] for row in djangos["results"]]


def test_short_time_is_the_date_format_it_replaces():
    today = timezone.localdate()
    for language in ["en", "de", "fr"]:
        with translation.override(language):
            for month in range(1, 13):
                moment = timezone.make_aware(datetime(today.year, month, 3, 7, 5))
                if timezone.localdate(moment) == today:
                    continue
                assert short_time(moment) == date_format(timezone.localtime(moment), "j M H:i")


def test_choice_labels_are_the_fields_display_in_each_language(tickets):
    ticket = tickets.select_related("hold").filter(hold__isnull=False).first()
    for language in ["en", "de"]:
        with translation.override(language):
            for status in TicketStatus.values:
                ticket.status = status
                assert choice_label(TicketStatus, status) == ticket.get_status_display()
            for status in HoldStatus.values:
                ticket.hold.status = status
                assert choice_label(HoldStatus, status) == ticket.hold.get_status_display()
    assert choice_label(TicketStatus, "no-such-status") == "no-such-status"


def test_the_rows_read_nothing_beyond_the_page_query(staff, tickets, django_assert_num_queries):
    """Every kind of row (each hold state, assigned or not, every first-response state) is
    rendered from the page's one query: nothing is read per row."""
    cl = changelist(staff)

    with django_assert_num_queries(1):
        rows = queue_rows(cl)

    assert len(rows) == tickets.count()


def test_the_queue_loads_only_the_columns_it_shows(staff, tickets):
    cl = changelist(staff, "?q=e")

    assert isinstance(cl, QueueChangeList)
    assert cl.result_list
    for ticket in cl.result_list:
        assert {"outcome", "created_at", "filed_by_id"} <= ticket.get_deferred_fields()
        assert "is_active" in ticket.category.get_deferred_fields()
        if ticket.assignee is not None:
            assert "password" in ticket.assignee.get_deferred_fields()


def test_the_queue_headers_mark_the_default_order_as_before(staff, tickets):
    """The queue's own ChangeList changes which columns are read, not what the headers show."""
    headers = result_headers(changelist(staff))

    marked = {
        str(header["text"]): header["ascending"] for header in headers if header.get("sorted")
    }
    assert marked == {"number": False, "last activity": False}


def test_the_queue_changelist_refuses_impossible_dates_as_every_list_does(staff, tickets):
    request = RequestFactory().get("/admin/tickets/ticket/")
    request.user = staff

    changelist_class = admin.site._registry[Ticket].get_changelist(request)
    assert issubclass(changelist_class, BoundedDateHierarchyChangeList)


def test_lean_format_html_is_format_html():
    arguments = [
        "<b>\"Smith\" & 'Sons'</b>",
        mark_safe("<em>kept</em>"),
        gettext_lazy("answered"),
        1200,
        None,
        "",
    ]
    for argument in arguments:
        ours = lean_format_html('<span title="{}">{}</span>', argument, argument)

        assert ours == format_html('<span title="{}">{}</span>', argument, argument)
        assert isinstance(ours, SafeData)
