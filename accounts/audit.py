"""The audit trail of a customer account changed by staff in the admin: its name and its users.

The trail outlives an erasure, so the name is recorded as changed, never its value; users are
named by id.
"""

from __future__ import annotations

from typing import Any

from audit.models import AuditKind
from audit.services import audit_record

from .models import Account

CHANGED = "changed"


def account_snapshot(account: Account | None) -> dict[str, Any]:
    """The account as stored (an admin form has already changed the instance it is given)."""
    if account is None or account.pk is None:
        return {}
    return {
        "name": Account.objects.values_list("name", flat=True).get(pk=account.pk),
        "users": {
            str(user_id): role
            for user_id, role in account.memberships.values_list("user_id", "role")
        },
    }


def account_change_record(*, actor, account: Account, before: dict[str, Any]) -> None:
    """Record what staff changed on `account` (nothing when nothing changed)."""
    after = account_snapshot(account)
    old_users, new_users = before.get("users", {}), after["users"]
    changes: dict[str, Any] = {}
    if before and before["name"] != after["name"]:
        changes["name"] = CHANGED
    if added := {user: role for user, role in new_users.items() if user not in old_users}:
        changes["users_added"] = added
    if removed := sorted(user for user in old_users if user not in new_users):
        changes["users_removed"] = removed
    if roles := {
        user: [old_users[user], role]
        for user, role in new_users.items()
        if user in old_users and old_users[user] != role
    }:
        changes["roles_changed"] = roles
    if changes:
        audit_record(
            kind=AuditKind.ACCOUNT_CHANGED,
            actor=actor,
            target=account,
            account_id=account.pk,
            changes=changes,
        )
