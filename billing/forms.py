from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from points.services import JOURNAL_REASON_MAX_CHARS

from .models import BillingDetails


class BillingDetailsForm(forms.ModelForm):
    class Meta:
        model = BillingDetails
        fields = ["company", "address", "tax_id"]
        widgets = {"address": forms.Textarea(attrs={"rows": 4, "maxlength": 1000})}
        help_texts = {
            "company": _("Printed on receipts and credit notes issued from now on."),
        }


class RefundForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=JOURNAL_REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the customer on the credit note."),
    )
    amount = forms.DecimalField(
        label=_("Amount to refund"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("At most the payment's share of the points removed (filled in)."),
    )
