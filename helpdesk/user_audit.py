"""What the audit trail says about a change of a user or a group in the admin.

Personal fields (address, names) are recorded as "changed" without their values: the trail outlives
a person's erasure and must not keep what erasure removes.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from audit.models import AuditKind
from audit.services import audit_record

from .models import User

PERSONAL_FIELDS = ("email", "first_name", "last_name")
FLAG_FIELDS = ("is_active", "is_staff", "is_superuser")
PERMISSION_KEYS = {"is_staff", "is_superuser", "groups", "user_permissions", "permissions"}
CHANGED = "changed"


def _permission_names(permissions) -> list[str]:
    return sorted(
        f"{app}.{codename}"
        for app, codename in permissions.values_list("content_type__app_label", "codename")
    )


def user_snapshot(user: User | None) -> dict[str, Any]:
    """What a user's audit record compares (empty for a user not saved yet)."""
    if user is None or user.pk is None:
        return {}
    user = User.objects.get(pk=user.pk)
    return {
        **{field: getattr(user, field) for field in PERSONAL_FIELDS + FLAG_FIELDS},
        "password": user.password,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "user_permissions": _permission_names(user.user_permissions),
    }


def group_snapshot(group: Group | None) -> dict[str, Any]:
    if group is None or group.pk is None:
        return {}
    group = Group.objects.get(pk=group.pk)
    return {"name": group.name, "permissions": _permission_names(group.permissions)}


def _differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for key, value in after.items():
        old = before.get(key)
        if old == value:
            continue
        changes[key] = CHANGED if key in PERSONAL_FIELDS + ("password",) else [old, value]
    return changes


def user_change_record(*, actor: User, user: User, before: dict[str, Any]) -> None:
    """Record a user created or changed by staff (nothing when nothing changed)."""
    after = user_snapshot(user)
    changes = _differences(before, after)
    if not changes:
        return
    if not before:
        kind = AuditKind.USER_CREATED
    elif PERMISSION_KEYS & changes.keys():
        kind = AuditKind.PERMISSIONS_CHANGED
    else:
        kind = AuditKind.USER_CHANGED
    audit_record(kind=kind, actor=actor, target=user, changes=changes)


def group_change_record(*, actor: User, group: Group, before: dict[str, Any]) -> None:
    changes = _differences(before, group_snapshot(group))
    if changes:
        audit_record(kind=AuditKind.PERMISSIONS_CHANGED, actor=actor, target=group, changes=changes)
