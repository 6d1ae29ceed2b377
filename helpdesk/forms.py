from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import EmailAddressField
from accounts.ratelimit import account_email_wait
from core.clients import client_ip

from .models import User
from .validators import PASSWORD_MAX_LENGTH


def login_fields() -> tuple[forms.Field, forms.Field]:
    """The address and password fields of the customers' and the staff's login forms alike, so
    that both name the same identity (the login lock-out counts on it)."""
    username = EmailAddressField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    return username, password


class EmailAuthenticationForm(auth_forms.AuthenticationForm):
    """Django's login form, labelled for e-mail addresses."""

    username, password = login_fields()

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        # Django's message says both fields may be case-sensitive; e-mail addresses are not here.
        "invalid_login": _(
            "Please enter a correct e-mail address and password. "
            "Note that the password is case-sensitive."
        ),
    }


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, with the customers' fields."""

    username, password = login_fields()


class PasswordResetRequestForm(auth_forms.PasswordResetForm):
    """Django's password reset form, answering the same for any address. The e-mail goes to the
    address's user only as normalized, within the account e-mail limits (see accounts.ratelimit),
    with a link to HELPDESK_BASE_URL whatever Host the request named."""

    email = EmailAddressField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def get_users(self, email):
        users = User.objects.with_address(email).filter(is_active=True)
        return (user for user in users if user.has_usable_password())

    def save(self, request=None, extra_email_context=None, **kwargs):
        if account_email_wait(address=self.cleaned_data["email"], client_ip=client_ip(request)):
            return
        base_url = settings.HELPDESK_BASE_URL.rstrip("/")
        super().save(
            request=request,
            domain_override=urlsplit(base_url).netloc,
            extra_email_context={**(extra_email_context or {}), "base_url": base_url},
            **kwargs,
        )


class AdminUserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]
        field_classes = {"email": EmailAddressField}


class AdminUserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"email": EmailAddressField}

    def clean(self):
        cleaned = super().clean()
        # Customers never reach the admin: a user of a customer account can't be made staff.
        if cleaned.get("is_staff") and hasattr(self.instance, "membership"):
            self.add_error(
                "is_staff",
                _("%(account)s uses this login as a customer; customers cannot be staff.")
                % {"account": self.instance.membership.account},
            )
        return cleaned
