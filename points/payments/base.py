"""The interface every payment backend implements, and the registry `settings.PAYMENT_BACKEND`
picks one from.

A backend says how the orders of its customers get paid: its `name` (what an order stores, and a
provider's events are recorded under) and `label`; what checkout does with a new order; whether
staff may mark its orders paid by hand; what the customer is told before buying. A backend whose
provider confirms payments with signed events also reads them (`event_from_request`,
`payment_in`); the services record each event once per provider and pay the order it names.

A new provider is one module in this package: a `Backend` subclass decorated with `@register`,
imported by the package's `__init__`. Orders and events take their choices from the registry, so
no migration is needed.

Backends hold no database state and import no models: they sit below `points.models`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from ..errors import WebhookRejected

# The longest backend name the columns that store one (orders, provider events) hold.
NAME_MAX_LENGTH = 10
_NAME = re.compile(rf"[a-z][a-z0-9_]{{0,{NAME_MAX_LENGTH - 1}}}")


class OrderToPay(Protocol):
    """What a backend reads of an order (a `points.models.Order`)."""

    pk: int
    points: int
    price: Decimal
    currency: str


@dataclass(frozen=True)
class ProviderEvent:
    """A provider's event, verified and parsed; recorded once per provider and id."""

    id: str
    type: str
    payload: dict


@dataclass(frozen=True)
class PaymentConfirmed:
    """What a provider's event says was paid; it counts only if it matches the order."""

    order_id: int
    payment_reference: str
    amount: Decimal
    currency: str
    points: int | None = None  # when the provider does not say


class Backend:
    """How orders get paid. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str]
    label: ClassVar[str | Promise]
    # Staff may mark its orders paid by hand (an invoice paid, a bank transfer seen).
    staff_marks_paid: ClassVar[bool] = False
    # What the customer reads above the point packages: a callout, optionally titled, and a
    # warning when no real money changes hands.
    notice: ClassVar[str | Promise]
    notice_title: ClassVar[str | Promise] = ""
    notice_is_warning: ClassVar[bool] = False

    def checkout(self, order: OrderToPay) -> str | None:
        """What checkout does with a new order: the payment reference when the order is paid by
        the time checkout ends, or None when it waits for a payment (staff, the provider)."""
        return None

    def event_from_request(
        self, *, body: bytes, headers: Mapping[str, str], now: float | None = None
    ) -> ProviderEvent:
        """The provider's event in a webhook request, verified; raises WebhookRejected."""
        raise WebhookRejected(
            _("The %(backend)s payment backend receives no events.") % {"backend": self.label}
        )

    def payment_in(self, event: ProviderEvent) -> PaymentConfirmed | None:
        """The payment an event confirms, None for events of other types; raises
        WebhookRejected when a payment event is malformed."""
        return None


_registry: dict[str, Backend] = {}


def register(backend_class: type[Backend]) -> type[Backend]:
    """Class decorator: make a backend available by its name."""
    name = backend_class.name
    if not _NAME.fullmatch(name):
        raise ImproperlyConfigured(
            f"A payment backend's name is a lowercase identifier of at most {NAME_MAX_LENGTH} "
            f"characters, not {name!r}."
        )
    registered = _registry.get(name)
    if registered is not None and type(registered) is not backend_class:
        raise ImproperlyConfigured(f"Two payment backends are named {name!r}.")
    _registry[name] = backend_class()
    return backend_class


def backend_named(name: str) -> Backend:
    try:
        return _registry[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"No payment backend is named {name!r}; there are {sorted(_registry)}."
        ) from None


def configured_backend() -> Backend:
    """The backend of settings.PAYMENT_BACKEND, the one checkout uses."""
    name = settings.PAYMENT_BACKEND
    if name not in _registry:
        raise ImproperlyConfigured(
            f"PAYMENT_BACKEND must be one of {sorted(_registry)}, not {name!r}."
        )
    return _registry[name]


def backend_choices() -> list[tuple[str, str | Promise]]:
    """The choices of the columns that hold a backend's name (a callable: no migration when a
    backend is added)."""
    return [(backend.name, backend.label) for backend in _registry.values()]
