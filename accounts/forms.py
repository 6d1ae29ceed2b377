"""The account forms: signing up (both steps) and inviting a user; the address and one-line
text fields they share with the login forms."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .validators import validate_ascii_local_part, validate_no_control_characters


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
        user = get_user_model()(
            email=self.email,
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )
        self.validate_password_for_user(user)
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
