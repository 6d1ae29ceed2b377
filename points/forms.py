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
