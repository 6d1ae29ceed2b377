from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _

from accounts.signals import password_set_through_link


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = _("Users")

    def ready(self):
        # Accepting an invitation proves the mailbox, as a password reset does; accounts (below
        # the project) says so, and the login lock-out here acts on it.
        from .auth import login_lock_lift_on_password_set

        password_set_through_link.connect(login_lock_lift_on_password_set)


class HelpDeskAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the HelpDesk's site: the support dashboard as its home page."""

    # Listed in INSTALLED_APPS by its path; not the configuration of the `helpdesk` app.
    default = False
    default_site = "helpdesk.admin_site.HelpDeskAdminSite"
