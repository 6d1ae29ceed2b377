from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import EmailAddressField

from .services import TOKEN_MAX_CHARS


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=TOKEN_MAX_CHARS,
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrolmentForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


# As long as the login's password field takes (helpdesk.validators.PASSWORD_MAX_LENGTH).
PASSWORD_MAX_CHARS = 1024


class CurrentPasswordForm(forms.Form):
    """Asks for the password again before a change of credentials."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=PASSWORD_MAX_CHARS,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."), code="password_wrong")
        return password


class EmailChangeForm(CurrentPasswordForm):
    new_email = EmailAddressField(
        label=_("New e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    field_order = ["new_email", "password"]
