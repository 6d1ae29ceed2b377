from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .forms import EmailAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("accounts/signup/", views.SignupView.as_view(), name="signup"),
    path("accounts/signup/sent/", views.signup_sent, name="signup_sent"),
    path("accounts/signup/<str:token>/", views.SignupFinishView.as_view(), name="signup_finish"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/users/", views.account_users, name="account_users"),
    path("accounts/users/<int:pk>/remove/", views.account_user_remove, name="account_user_remove"),
    path(
        "accounts/invitation/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="account_invitation",
    ),
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("support/", include("catalog.urls")),
    path("tickets/", include("tickets.urls")),
    path("communication-center/support-points/", include("points.urls")),
    path("admin/", admin.site.urls),
]
