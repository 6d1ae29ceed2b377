"""Payment backends behind one interface (`base.Backend`), in a registry; settings.PAYMENT_BACKEND
picks the one checkout uses. Built in:

- ``demo``: the order is paid at once (demos and tests; refused in production settings);
- ``manual``: the order waits until staff mark it paid in the admin (an invoice, a bank transfer);
- ``webhook``: the order waits for the payment provider's signed confirmation.

A new provider is one module here registering its backend, imported below. The services
(`points.services.order_checkout`, `order_mark_paid`, `webhook_receive`) use the backends; the
backends use no service and no model.
"""

from .base import (
    NAME_MAX_LENGTH,
    Backend,
    OrderToPay,
    PaymentConfirmed,
    ProviderEvent,
    backend_choices,
    backend_named,
    configured_backend,
    register,
)
from .demo import DemoBackend
from .manual import ManualBackend
from .webhook import SIGNATURE_HEADER, WebhookBackend, webhook_signature, webhook_verify


class PaymentBackend:
    """The built-in backends' names: what `Order.payment_backend` and `WebhookEvent.provider`
    hold."""

    DEMO = DemoBackend.name
    MANUAL = ManualBackend.name
    WEBHOOK = WebhookBackend.name


__all__ = [
    "NAME_MAX_LENGTH",
    "SIGNATURE_HEADER",
    "Backend",
    "DemoBackend",
    "ManualBackend",
    "OrderToPay",
    "PaymentBackend",
    "PaymentConfirmed",
    "ProviderEvent",
    "WebhookBackend",
    "backend_choices",
    "backend_named",
    "configured_backend",
    "register",
    "webhook_signature",
    "webhook_verify",
]
