from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import packages_on_sale


class CheckoutForm(forms.Form):
    """The package a customer buys (each package card posts its own)."""

    package = forms.ModelChoiceField(
        queryset=packages_on_sale(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("This package is no longer on sale.")},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class BalanceAlertForm(forms.Form):
    """The owner's low-balance threshold (0: off) and, for whoever posts it, their own opt-in."""

    threshold = forms.IntegerField(
        label=_("E-mail when available points fall below"),
        min_value=0,
        required=False,
        help_text=_("0 turns the alert off."),
    )
    subscribed = forms.BooleanField(label=_("E-mail me too"), required=False)

    def __init__(self, *args, is_owner: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if is_owner:
            self.fields["threshold"].required = True
            # The owner always gets the alert.
            del self.fields["subscribed"]
        else:
            del self.fields["threshold"]
