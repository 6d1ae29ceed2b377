"""Demo payments: checkout pays the order at once (demos and tests; refused in production
settings unless PAYMENT_DEMO_ALLOWED)."""

from django.utils.translation import gettext_lazy as _

from .base import Backend, OrderToPay, register


@register
class DemoBackend(Backend):
    name = "demo"
    label = _("demo (paid at once)")
    notice_title = _("Demo payments.")
    notice = _(
        "This HelpDesk runs in demo mode: orders are paid at once and no money changes hands."
    )
    notice_is_warning = True

    def checkout(self, order: OrderToPay) -> str:
        return f"demo-{order.pk}"
