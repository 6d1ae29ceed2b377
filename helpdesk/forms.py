from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from core.clients import client_ip

from .models import User
from .ratelimit import account_email_wait
from .validators import (
    PASSWORD_MAX_LENGTH,
    validate_ascii_local_part,
    validate_no_control_characters,
)


class EmailAddressField(forms.EmailField):
    """An e-mail address as people are known by here: trimmed, at most 254 characters (the
    column's), no control characters, ASCII before the "@"."""

    default_validators = [
        *forms.EmailField.default_validators,
        validate_no_control_characters,
        validate_ascii_local_part,
    ]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)


class TextLineField(forms.CharField):
    """One line of text, such as a name: trimmed, bounded, without control characters."""

    default_validators = [validate_no_control_characters]


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


class SignupForm(forms.Form):
    """Sign-up, first step: the address, which gets a link to finish."""

    email = EmailAddressField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        help_text=_("We send a link to this address; it finishes creating your account."),
    )


class SignupFinishForm(auth_forms.SetPasswordMixin, forms.Form):
    """Sign-up, second step (behind the link): names, the account's name and a password."""

    first_name = TextLineField(
        label=_("First name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = TextLineField(
        label=_("Last name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    account_name = TextLineField(
        label=_("Company or your name"),
        max_length=200,
        help_text=_("Support points and tickets belong to this account."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    password1, password2 = auth_forms.SetPasswordMixin.create_password_fields()

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        # The password must not resemble the address or the names.
        user = User(
            email=self.email,
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )
        self.validate_password_for_user(user)
        return cleaned


class PasswordResetRequestForm(auth_forms.PasswordResetForm):
    """Django's password reset form, answering the same for any address. The e-mail goes to the
    address's user only as normalized, within the account e-mail limits (see helpdesk.ratelimit),
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


class InviteUserForm(forms.Form):
    """The owner invites a secondary user (e.g. their webmaster) to the account."""

    email = EmailAddressField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_("We send a link to this address; it works once, to choose a password."),
    )
    first_name = TextLineField(label=_("First name"), max_length=150, required=False)
    last_name = TextLineField(label=_("Last name"), max_length=150, required=False)
