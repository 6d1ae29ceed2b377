"""Forms of the staff-only points pages in the admin. They validate input; services decide."""

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.numbers import AmountField, PointsField, negative_points_limit
from core.text import REASON_MAX_CHARS, BoundedTextField

from .models import PointPackage

REASON_WIDGET = forms.Textarea(attrs={"rows": 3, "cols": 60})


class GrantPointsForm(forms.Form):
    points = PointsField(label=_("Points"), minimum=1)
    reason = BoundedTextField(
        label=_("Reason"),
        max_length=REASON_MAX_CHARS,
        widget=REASON_WIDGET,
        help_text=_("Recorded in the journal with your name; the customer sees it on their page."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for the usual two years from today."),
    )

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is None:
            return None
        today = timezone.localdate(timezone=timezone.get_default_timezone())
        latest = today + timedelta(days=settings.HELPDESK_MAX_GRANT_VALIDITY_DAYS)
        if day <= today:
            raise forms.ValidationError(_("Choose a day after today."))
        if day > latest:
            raise forms.ValidationError(
                _("Choose a day up to %(latest)s: granted points expire within %(days)s days.")
                % {"latest": latest.isoformat(), "days": settings.HELPDESK_MAX_GRANT_VALIDITY_DAYS}
            )
        return day

    def clean_reason(self):
        return self.cleaned_data["reason"].strip()

    def expires_at(self) -> datetime | None:
        """The start of the chosen day in the HelpDesk time zone, like purchase lots."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


class AdjustPointsForm(forms.Form):
    points = PointsField(
        label=_("Points"),
        minimum=negative_points_limit,
        help_text=_(
            "Positive adds points (a new lot that expires in two years); negative takes available "
            "points away, soonest-expiring first."
        ),
    )
    reason = BoundedTextField(
        label=_("Reason"),
        max_length=REASON_MAX_CHARS,
        widget=REASON_WIDGET,
        help_text=_("Recorded in the journal with your name; the customer sees it on their page."),
    )

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("An adjustment of 0 points changes nothing."))
        return points

    def clean_reason(self):
        return self.cleaned_data["reason"].strip()


class PointPackageForm(forms.ModelForm):
    points = PointsField(label=_("Points"), minimum=1)
    price = AmountField(label=_("Price"), max_digits=12, decimal_places=2, min_value=0)

    class Meta:
        model = PointPackage
        fields = ["name", "points", "price", "currency", "position", "is_active"]


class MarkOrderPaidForm(forms.Form):
    payment_reference = BoundedTextField(
        label=_("Payment reference"),
        max_length=200,
        help_text=_(
            "The bank transfer or invoice reference. Each reference can pay only one order."
        ),
    )

    def clean_payment_reference(self):
        return self.cleaned_data["payment_reference"].strip()
