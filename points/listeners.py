"""Higher apps told of the ledger's events (points purchased, granted, expired), in the caller's
transaction: the API turns them into webhook deliveries. The ledger never imports its listeners;
they register here from their AppConfig.ready.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PURCHASED = "points.purchased"
GRANTED = "points.granted"
EXPIRED = "points.expired"

# listener(event, [{"account": id, "lot": id, "points": n, ...}, ...])
Listener = Callable[[str, list[dict[str, Any]]], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def has_listeners() -> bool:
    return bool(_listeners)


def ledger_event(event: str, items: list[dict[str, Any]]) -> None:
    if not items:
        return
    for listener in _listeners:
        listener(event, items)
