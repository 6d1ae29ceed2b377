from django.urls import path

from . import pages, views

# Under /accounts/, beside the login; the names are global.
urlpatterns = [
    path("two-factor/", views.verify, name="two_factor_verify"),
    path("two-factor/setup/", views.setup, name="two_factor_setup"),
    path("two-factor/recovery-codes/", views.recovery_codes_new, name="two_factor_recovery_codes"),
    path("security/", pages.security_page, name="security"),
    path("security/email/", pages.email_change, name="email_change"),
    path("security/email/<str:token>/", pages.email_change_confirm, name="email_change_confirm"),
    path("security/two-factor/off/", pages.two_factor_off, name="two_factor_off"),
    path("security/sessions/end/", pages.sessions_end_others, name="sessions_end_others"),
]
