from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = _("Incoming e-mail")

    def ready(self):
        from . import notifications

        notifications.register_events()
