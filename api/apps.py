from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("REST API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from notifications import outbox
        from points import listeners

        from . import tasks  # noqa: F401  (registers the beat jobs' tasks wherever the app runs)
        from .webhooks.events import record_events, record_ledger_events

        # The lower apps' events (the outbox's, the ledger's) become webhook deliveries.
        outbox.listen(record_events)
        listeners.listen(record_ledger_events)
