from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from points import hooks

        from . import notifications
        from .services.receipts import receipt_issue_for_paid_order

        hooks.register_order_paid(receipt_issue_for_paid_order)
        notifications.register_events()
