"""Manual payments: the order waits until staff mark it paid in the admin (an invoice, a bank
transfer)."""

from django.utils.translation import gettext_lazy as _

from .base import Backend, register


@register
class ManualBackend(Backend):
    name = "manual"
    label = _("manual (marked paid by staff)")
    staff_marks_paid = True
    notice = _(
        "After you place an order we send you an invoice. The points are added to your balance "
        "as soon as the payment arrives; you can follow the order on its page."
    )
