"""An upgrade across the move of Account and Membership to the `accounts` app, on the database of
DATABASE_URL (empty): migrate to the schema before the move, write data as the code of then did,
migrate forward as an operator does, and print what was there before and after as JSON.

Run by tests/accounts/test_migrations.py in a process of its own:
`manage.py shell -v 0 -c "from tests.accounts.upgrade import main; main()"`.
"""

import io
import json
from datetime import timedelta

from django.apps import apps as current_apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_sign_up
from helpdesk.models import User
from points.selectors import points_summary
from points.services import points_grant

# The last migrations before the move; every other app at its newest, except the apps made after
# the move (their first migration needs the accounts app), which the upgrade then creates.
BEFORE = {"points": "0005_webhook_event", "tickets": "0008_render_existing_messages"}
LATER_APPS = {"api"}
MOVED = {"Account", "Membership"}
# Ledger and ticket rows that refer to accounts, by model name in `points` or `tickets`.
ROWS = {
    "points": ["Account", "Membership", "Order", "Lot", "Hold", "HoldAllocation", "Entry"],
    "tickets": ["Ticket"],
}


def main() -> None:
    executor = MigrationExecutor(connection)
    targets = [
        node
        for node in executor.loader.graph.leaf_nodes()
        if node[0] not in {"accounts", *BEFORE, *LATER_APPS}
    ] + list(BEFORE.items())
    executor.migrate(targets)
    old = executor.loader.project_state(targets).apps
    _permissions_as_post_migrate_made_them(old)
    ids = _write_old_data(old)
    before = _snapshot(old, moved_to="points")

    call_command("migrate", verbosity=0)

    after = _snapshot(current_apps, moved_to="accounts")
    print(
        json.dumps(
            {"ids": ids, "before": before, "after": after, **_checks(ids)}, cls=DjangoJSONEncoder
        )
    )


def _permissions_as_post_migrate_made_them(apps) -> None:
    """Content types and permissions of every model of then (Django makes them after migrate)."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _write_old_data(apps) -> dict:
    model = apps.get_model
    User, Group, Permission = (
        model("helpdesk", "User"),
        model("auth", "Group"),
        model("auth", "Permission"),
    )
    Account, Membership = model("points", "Account"), model("points", "Membership")
    Lot, Hold, Entry = model("points", "Lot"), model("points", "Hold"), model("points", "Entry")
    now = timezone.now()
    later = now + timedelta(days=700)

    def user(email, **extra):
        return User.objects.create(email=email, password="!", date_joined=now, **extra)

    owner, webmaster, other = (
        user("owner@example.com"),
        user("web@example.com"),
        user("b@example.com"),
    )
    clerk, support, direct = (
        user(f"{name}@example.com", is_staff=True) for name in ("clerk", "support", "direct")
    )
    shop = Account.objects.create(name="Shop")
    second = Account.objects.create(name="Second")
    Membership.objects.create(account=shop, user=owner, role="owner")
    Membership.objects.create(account=shop, user=webmaster, role="member")
    Membership.objects.create(account=second, user=other, role="owner")

    order = model("points", "Order").objects.create(
        account=shop,
        points=50,
        price="45.00",
        currency="USD",
        status="paid",
        payment_backend="manual",
        payment_reference="pay_1",
        created_by=owner,
        paid_at=now,
    )
    granted = Lot.objects.create(
        account=shop, kind="grant", points=100, remaining=60, acquired_at=now, expires_at=later
    )
    bought = Lot.objects.create(
        account=shop,
        kind="purchase",
        points=50,
        remaining=50,
        acquired_at=now,
        expires_at=later,
        payment_reference="pay_1",
        order=order,
    )
    theirs = Lot.objects.create(
        account=second, kind="grant", points=30, remaining=30, acquired_at=now, expires_at=later
    )
    category = model("catalog", "IssueCategory").objects.get(name="Incident solving")
    ticket = model("tickets", "Ticket").objects.create(
        account=shop,
        filed_by=webmaster,
        category=category,
        subject="Checkout fails",
        created_at=now,
        last_activity_at=now,
    )
    hold = Hold.objects.create(account=shop, ticket=ticket, amount=40, created_at=now)
    model("points", "HoldAllocation").objects.create(hold=hold, lot=granted, amount=40)
    for account, kind, amount, lot, extra in [
        (shop, "grant", 100, granted, {}),
        (shop, "capture", 40, granted, {"hold": hold}),
        (shop, "purchase", 50, bought, {"order": order}),
        (second, "grant", 30, theirs, {}),
    ]:
        Entry.objects.create(
            account=account, kind=kind, amount=amount, lot=lot, created_at=now, **extra
        )

    def permission(app, model_name, codename):
        return Permission.objects.get(
            content_type__app_label=app, content_type__model=model_name, codename=codename
        )

    clerks = Group.objects.create(name="Ledger clerks")
    clerks.permissions.set(
        [
            permission("points", "account", "grant_points"),
            permission("points", "account", "adjust_points"),
            permission("points", "account", "view_account"),
            permission("points", "account", "change_account"),
            permission("points", "membership", "view_membership"),
        ]
    )
    clerk.groups.add(clerks)
    support.groups.add(Group.objects.get(name="Support staff"))
    direct.user_permissions.add(permission("points", "account", "grant_points"))
    model("admin", "LogEntry").objects.create(
        user=clerk,
        content_type=model("contenttypes", "ContentType").objects.get(
            app_label="points", model="account"
        ),
        object_id=str(shop.pk),
        object_repr="Shop",
        action_flag=2,
        change_message="Renamed",
        action_time=now,
    )
    return {
        "shop": shop.pk,
        "second": second.pk,
        "clerk": clerk.pk,
        "support": support.pk,
        "direct": direct.pk,
    }


def _snapshot(apps, *, moved_to: str) -> dict:
    rows = {}
    for app, names in ROWS.items():
        for name in names:
            model = apps.get_model(moved_to if name in MOVED else app, name)
            rows[name] = list(model.objects.order_by("pk").values())
    Group, User = apps.get_model("auth", "Group"), apps.get_model("helpdesk", "User")
    return {
        "rows": rows,
        "tables": sorted(
            apps.get_model(moved_to if name in MOVED else app, name)._meta.db_table
            for app, names in ROWS.items()
            for name in names
        ),
        "group_permissions": {
            group.name: sorted(group.permissions.values_list("pk", "codename"))
            for group in Group.objects.order_by("name")
        },
        "user_permissions": {
            user.email: sorted(user.user_permissions.values_list("pk", "codename"))
            for user in User.objects.order_by("email")
        },
    }


def _checks(ids: dict) -> dict:
    ledger = io.StringIO()
    try:
        call_command("check_ledger", stdout=ledger, stderr=ledger)
    except SystemExit:
        ledger.write("(exit 1)")
    users = {key: User.objects.get(pk=ids[key]) for key in ("clerk", "support", "direct")}
    perms = [
        "points.grant_points",
        "points.adjust_points",
        "accounts.view_account",
        "accounts.view_membership",
    ]
    balances_before = {
        key: _balance(points_summary(account=Account.objects.get(pk=ids[key])))
        for key in ("shop", "second")
    }
    # The app works on the moved tables: new rows, the ledger's service, the account lock.
    points_grant(
        account=Account.objects.get(pk=ids["second"]),
        points=5,
        reason="After the upgrade",
        actor=users["clerk"],
    )
    newcomer = account_sign_up(
        email="new@example.com", password="a long new passphrase", account_name="New"
    )
    return {
        "check_ledger": ledger.getvalue(),
        "balances": balances_before,
        "second_after_grant": _balance(
            points_summary(account=Account.objects.get(pk=ids["second"]))
        ),
        "new_account_id": newcomer.membership.account_id,
        "has_perm": {
            key: {perm: user.has_perm(perm) for perm in perms} for key, user in users.items()
        },
        "content_types": sorted(
            ContentType.objects.filter(model__in=["account", "membership"]).values_list(
                "app_label", "model"
            )
        ),
        "ledger_permissions": sorted(
            Permission.objects.filter(codename__in=["grant_points", "adjust_points"]).values_list(
                "content_type__app_label", "content_type__model", "codename"
            )
        ),
        "admin_history": [str(entry.get_edited_object()) for entry in LogEntry.objects.all()],
    }


def _balance(summary) -> dict:
    return {"available": summary.available, "captured": summary.captured}
