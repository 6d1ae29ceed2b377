from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import metrics, views
from .forms import EmailAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("favicon.ico", views.favicon),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("security.urls")),
    path("accounts/privacy/", include("privacy.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # The price list keeps the catalog's URL name ("catalog:pricing").
    path("support/", include(([path("pricing/", views.pricing, name="pricing")], "catalog"))),
    path("tickets/", include("tickets.urls")),
    path("communication-center/support-points/", include("points.urls")),
    path("communication-center/billing/", include("billing.urls")),
    path("mail/", include("mail.urls")),
    # The REST API (issue 12) and its tokens page.
    path("api/", include("api.urls")),
    path("accounts/", include("api.page_urls")),
    path("admin/", admin.site.urls),
]
