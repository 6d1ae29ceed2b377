"""What the outbox stores of a context: JSON values as they are, rows as references that are read
again when the e-mail is sent (so it says what is true then)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.db import models


def dump(context: Mapping[str, Any]) -> dict[str, Any]:
    """JSON for the outbox: model instances become references to their rows."""
    dumped = {}
    for name, value in context.items():
        if isinstance(value, models.Model):
            value = {"$model": value._meta.label_lower, "pk": value.pk}
        elif isinstance(value, list | tuple) and value and isinstance(value[0], models.Model):
            value = {"$model": value[0]._meta.label_lower, "pks": [item.pk for item in value]}
        dumped[name] = value
    return dumped


def load(value: Any) -> Any:
    """A stored context value, its row references read again."""
    if not (isinstance(value, dict) and "$model" in value):
        return value
    manager = apps.get_model(value["$model"])._base_manager
    if "pks" in value:
        rows = manager.in_bulk(value["pks"])
        return [rows[pk] for pk in value["pks"] if pk in rows]
    return manager.get(pk=value["pk"])
