from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("Sign-in security")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from .middleware import session_signed_in, session_signed_out
        from .two_factor import second_factor_expect

        user_logged_in.connect(second_factor_expect, dispatch_uid="security.second_factor")
        user_logged_in.connect(session_signed_in, dispatch_uid="security.session_in")
        user_logged_out.connect(session_signed_out, dispatch_uid="security.session_out")
