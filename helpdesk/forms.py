from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from .models import User


class EmailAuthenticationForm(auth_forms.AuthenticationForm):
    """Django's login form, labelled for e-mail addresses."""

    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        # Django's message says both fields may be case-sensitive; e-mail addresses are not here.
        "invalid_login": _(
            "Please enter a correct e-mail address and password. "
            "Note that the password is case-sensitive."
        ),
    }


class SignupForm(auth_forms.BaseUserCreationForm):
    """A new customer: e-mail, name, password, and the name of their company (the account)."""

    account_name = forms.CharField(
        label=_("Company or your name"),
        max_length=200,
        help_text=_("Support points and tickets belong to this account."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]
        field_classes = {"email": forms.EmailField}
        # Lets browsers and assistive technology fill in the visitor's own details.
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
        }

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this e-mail address already exists."))
        return email


class AdminUserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class AdminUserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

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

    email = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_("We send a link to this address; it works once, to choose a password."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
