"""Shared by the admin tests: support staff users, tickets filed through the services, and the
ledger check.
"""

from __future__ import annotations

import io

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Account
from catalog.models import IssueCategory
from helpdesk.models import User
from points.selectors import points_summary
from points.services import points_grant
from tests.factories import AccountFactory, IssueCategoryFactory, StaffUserFactory, account_owner
from tickets.models import Ticket
from tickets.services import ticket_file

SUPPORT_STAFF = "Support staff"


def support_staff_user(**kwargs) -> User:
    """A staff member who is not a superuser, in the "Support staff" group (from its migration)."""
    user = StaffUserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=SUPPORT_STAFF))
    return user


def funded_account(points: int = 500, **kwargs) -> Account:
    account = AccountFactory(**kwargs)
    if points:
        points_grant(account=account, points=points, reason="Welcome points", actor=None)
    return account


def file_ticket(
    account: Account | None = None,
    category: IssueCategory | None = None,
    *,
    subject: str = "The checkout page shows an error",
    description: str = "Since this morning customers see a 500 error when they pay.",
    **kwargs,
) -> Ticket:
    """A ticket filed by the account's owner through the service (its price is captured)."""
    account = account or funded_account()
    category = category or IssueCategoryFactory()
    return ticket_file(
        account=account,
        filed_by=account_owner(account),
        category=category,
        subject=subject,
        description=description,
        **kwargs,
    )


def ticket_url(ticket: Ticket, action: str | None = None, *args) -> str:
    if action is None:
        return reverse("admin:tickets_ticket_change", args=[ticket.pk])
    return reverse(f"admin:tickets_ticket_{action}", args=[ticket.pk, *args])


def balance(account: Account) -> tuple[int, int]:
    """(available, captured) of the account."""
    summary = points_summary(account=account)
    return summary.available, summary.captured


def assert_ledger_clean() -> None:
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "Ledger is consistent." in out.getvalue()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
