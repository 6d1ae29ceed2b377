"""Forms of the admin ticket page. Each validates what staff typed; the services decide."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.numbers import PointsField, WholeNumberField
from core.text import REASON_MAX_CHARS, BoundedTextField

from .form_fields import MultipleFileField
from .services import MAX_LOGGED_MINUTES, message_max_chars
from .transitions import manual_moves


def reason_field(label=None, help_text=None, rows=2):
    return BoundedTextField(
        label=label or _("Reason"),
        max_length=REASON_MAX_CHARS,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 40}),
    )


class StaffReplyForm(forms.Form):
    PUBLIC, INTERNAL = "public", "internal"

    body = BoundedTextField(
        label=_("Message"),
        max_length=message_max_chars,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
    )
    visibility = forms.ChoiceField(
        label=_("Send as"),
        choices=[
            (PUBLIC, _("Public reply — the customer sees it and is e-mailed")),
            (INTERNAL, _("Internal note — staff only, the customer never sees it")),
        ],
        initial=PUBLIC,
        widget=forms.RadioSelect,
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def clean_body(self):
        return self.cleaned_data["body"].strip()

    @property
    def is_internal(self) -> bool:
        return self.cleaned_data["visibility"] == self.INTERNAL


# Staff users appear as `str(user)` (their name, or their e-mail without one), in this order.
STAFF_ORDER = ["first_name", "last_name", "email"]


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .order_by(*STAFF_ORDER),
        required=False,
        empty_label=_("— unassigned —"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            # Listed by one plain query: the field's own iterator reads through a server-side
            # cursor, three round trips on PostgreSQL. (A posted choice is looked up by itself.)
            field = self.fields["assignee"]
            staff = [(user.pk, str(user)) for user in field.queryset]
            field.choices = [("", field.empty_label), *staff]


class MoveForm(forms.Form):
    to_status = forms.ChoiceField(label=_("Move to"))

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (status.value, status.label) for status in manual_moves(ticket.status)
        ]


class ChangeCostForm(forms.Form):
    points = PointsField(label=_("New cost (points)"))
    reason = reason_field(help_text=_("The customer sees it in the cost history."))
    override = forms.BooleanField(
        label=_("Override the category's price bounds"),
        required=False,
        help_text=_("Only when the work is truly outside the category's price; say why above."),
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        # Only minimum and range prices have bounds to override.
        if ticket.category.cost_bounds is None:
            del self.fields["override"]


class QuoteForm(forms.Form):
    points = PointsField(label=_("Quote (points)"))
    note = reason_field(
        label=_("What it covers"),
        help_text=_("The customer accepts or declines the quote on the ticket page."),
        rows=3,
    )


class LogTimeForm(forms.Form):
    minutes = WholeNumberField(
        label=_("Time spent (minutes)"), min_value=1, max_value=MAX_LOGGED_MINUTES
    )
    note = reason_field(label=_("Work done"))


class ResolveForm(forms.Form):
    reason = reason_field(
        label=_("Resolution"), help_text=_("How the problem was solved; recorded with the points.")
    )


class SoftwareBugForm(forms.Form):
    reason = reason_field(help_text=_("Which bug; every point of the ticket goes back."))


class RemoveUrgencyForm(forms.Form):
    reason = reason_field(help_text=_("The HotRush surcharge goes back to the customer."))


class ReconsiderationDecisionForm(forms.Form):
    LOWER, DECLINE = "lower", "decline"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(LOWER, _("Lower the cost")), (DECLINE, _("Decline"))],
        widget=forms.RadioSelect,
    )
    new_points = PointsField(
        label=_("New cost (points)"),
        required=False,
        help_text=_("When lowering."),
    )
    reason = reason_field(help_text=_("The customer sees it."))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.LOWER and cleaned.get("new_points") is None:
            self.add_error("new_points", _("Say what the cost becomes."))
        return cleaned


class WaitForPointsForm(forms.Form):
    """After a refused increase: tell the customer how many points to buy and wait for them."""

    points = PointsField(minimum=1, widget=forms.HiddenInput)
    reason = BoundedTextField(max_length=REASON_MAX_CHARS, widget=forms.HiddenInput)
