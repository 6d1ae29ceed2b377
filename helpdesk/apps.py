from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = _("Users")


class HelpDeskAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the HelpDesk's site: the support dashboard as its home page."""

    # Listed in INSTALLED_APPS by its path; not the configuration of the `helpdesk` app.
    default = False
    default_site = "helpdesk.admin_site.HelpDeskAdminSite"
