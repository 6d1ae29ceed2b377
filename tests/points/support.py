"""Helpers shared by the ledger tests: fixed instants, short service calls and ledger snapshots."""

from __future__ import annotations

import ast
import io
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from django.conf import settings
from django.core.management import call_command

from accounts.models import Account
from catalog.models import IssueCategory
from points.models import Entry, Hold, HoldAllocation, Lot, Order
from points.services import ExpiryResult, hold_capture, lots_expire_due, points_grant
from tests.factories import IssueCategoryFactory
from tickets.models import Ticket

T0 = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def expire_at(as_of: datetime, **kwargs) -> ExpiryResult:
    """Run the expiry job at `as_of` (the job refuses to expire ahead of the clock)."""
    with time_machine.travel(as_of, tick=False):
        return lots_expire_due(as_of=as_of, **kwargs)


def grant(
    account: Account,
    points: int,
    *,
    at: datetime = T0,
    expires_at: datetime | None = None,
    reason: str = "goodwill",
) -> Lot:
    return points_grant(
        account=account, points=points, reason=reason, actor=None, at=at, expires_at=expires_at
    )


def new_ticket(account: Account, category: IssueCategory | None = None) -> Ticket:
    """A bare ticket row of the account (no points captured)."""
    from tests.factories import TicketFactory

    if category is None:
        return TicketFactory(account=account)
    return TicketFactory(account=account, category=category)


def capture(account: Account, points: int, *, at: datetime = T0, category=None) -> Hold:
    return hold_capture(ticket=new_ticket(account, category), points=points, at=at)


def shared_category() -> IssueCategory:
    return IssueCategoryFactory()


def allocations(hold: Hold) -> dict[int, int]:
    """{lot id: points} of the hold's allocations that still hold points."""
    return dict(
        HoldAllocation.objects.filter(hold=hold, amount__gt=0).values_list("lot_id", "amount")
    )


def remaining(*lots: Lot) -> list[int]:
    by_id = dict(Lot.objects.filter(id__in=[lot.id for lot in lots]).values_list("id", "remaining"))
    return [by_id[lot.id] for lot in lots]


def entries(**filters) -> list[tuple[str, int, int]]:
    """(kind, amount, lot id) of matching journal entries, in insertion order."""
    return list(Entry.objects.filter(**filters).order_by("id").values_list("kind", "amount", "lot"))


def ledger_state() -> dict:
    """Everything a refused operation must leave untouched."""
    return {
        "counts": {
            model.__name__: model.objects.count()
            for model in (Lot, Entry, Hold, HoldAllocation, Order)
        },
        "lots": list(Lot.objects.order_by("id").values_list("id", "remaining", "expired_at")),
        "holds": list(
            Hold.objects.order_by("id").values_list(
                "id", "status", "amount", "settled_at", "released_at", "refunded_at"
            )
        ),
        "allocations": list(
            HoldAllocation.objects.order_by("id").values_list("id", "lot_id", "amount")
        ),
        "orders": list(
            Order.objects.order_by("id").values_list("id", "status", "payment_reference")
        ),
    }


def check_ledger() -> str:
    """Run `manage.py check_ledger` and return what it printed (SystemExit on violations)."""
    out = io.StringIO()
    call_command("check_ledger", stdout=out, stderr=out, no_color=True)
    return out.getvalue()


def assert_ledger_consistent() -> None:
    output = check_ledger()
    assert output.strip() == "Ledger is consistent.", output


# --- Reading the project's source -----------------------------------------------------------------


def app_modules() -> list[Path]:
    """Every Python module of the project's packages (pyproject's package list), migrations too."""
    with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as file:
        include = tomllib.load(file)["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in include}
    return sorted(
        path for package in packages for path in (Path(settings.BASE_DIR) / package).rglob("*.py")
    )


def chain(node: ast.AST) -> Iterator[ast.AST]:
    """The links of an expression like `Entry.objects.filter(...).create`, outermost first."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        yield node
        node = node.func if isinstance(node, ast.Call) else node.value
    yield node
