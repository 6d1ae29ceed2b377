"""Recording staff actions. Services of the apps above call `audit_record` inside their own
transaction: an action that rolls back leaves no row, and an action that stands always has one."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from core.errors import HelpDeskError
from core.request_context import current_client_address
from core.text import REASON_MAX_CHARS

from .models import AuditEvent, AuditKind

# Before/after values are small facts (points, flags, ids); a larger record is a mistake.
MAX_CHANGES_BYTES = 16 * 1024


@transaction.atomic
def audit_record(
    *,
    kind: AuditKind | str,
    actor: Any,
    target: models.Model | None = None,
    account_id: int | None = None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """One row of the trail: who (`actor`, None for the HelpDesk itself), what, on which object,
    for which account (taken from `target.account_id` when not given), with the client address of
    the request being served."""
    if kind not in AuditKind.values:
        raise HelpDeskError(f"Unknown audit kind {kind!r}.", code="audit_kind_unknown")
    changes = changes or {}
    if len(json.dumps(changes, default=str)) > MAX_CHANGES_BYTES:
        raise HelpDeskError("The audit record's changes are too large.", code="audit_too_large")
    if account_id is None and target is not None:
        account_id = getattr(target, "account_id", None)
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        kind=kind,
        actor_id=actor_id,
        account_id=account_id,
        content_type=ContentType.objects.get_for_model(target) if target is not None else None,
        object_id=str(target.pk) if target is not None else "",
        changes=json.loads(json.dumps(changes, default=str)),
        reason=(reason or "")[:REASON_MAX_CHARS],
        client_address=current_client_address(),
    )
