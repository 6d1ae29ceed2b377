from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.models import CategoryGroup
from catalog.pricing import price_text
from core.text import REASON_MAX_CHARS, BoundedTextField
from core.widgets import Select

from .form_fields import AttachmentsField
from .models import TicketStatus
from .selectors import ACTIVE
from .services import ACCESS_DETAILS_MAX_CHARS, message_max_chars


class TicketFileForm(forms.Form):
    category = forms.ChoiceField(label=_("Issue category"))
    subject = BoundedTextField(
        label=_("Subject"),
        max_length=200,
        help_text=_("One issue per ticket, in a few words."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = BoundedTextField(
        label=_("Description"),
        max_length=message_max_chars,
        help_text=_(
            "What happened, what you expected, and how to reproduce it. Markdown formatting is "
            "supported; put code and HTML between backticks (`like this`)."
        ),
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    attachments = AttachmentsField()
    is_urgent = forms.BooleanField(
        label=_("HotRush: first response within 1 working hour"),
        required=False,
        help_text=_(
            "Costs twice the category's price. You can drop HotRush until the ticket is assigned."
        ),
    )
    quote_first = forms.BooleanField(
        label=_("Send me a price quote before work starts"),
        required=False,
        help_text=_("Nothing is captured until you accept the quote."),
    )

    def __init__(self, *args, groups: list[CategoryGroup], available: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].help_text = ngettext(
            "The category sets the ticket's price. You have %(points)s point available.",
            "The category sets the ticket's price. You have %(points)s points available.",
            available,
        ) % {"points": intcomma(available)}
        self.categories = {
            str(category.pk): category for group in groups for category in group.active_categories
        }
        self.fields["category"].choices = [("", _("Choose a category…"))] + [
            (
                group.name,
                [
                    (str(category.pk), f"{category.name} — {price_text(category)}")
                    for category in group.active_categories
                ],
            )
            for group in groups
            if group.active_categories
        ]

    def clean_category(self):
        return self.categories[self.cleaned_data["category"]]

    def draft(self) -> dict:
        """What the customer typed, to keep while they buy points (files can't be kept)."""
        return {
            name: self.data.get(name, "")
            for name in ("category", "subject", "description", "is_urgent", "quote_first")
        }


class CustomerReplyForm(forms.Form):
    body = BoundedTextField(
        label=_("Your reply"),
        max_length=message_max_chars,
        help_text=_(
            "Markdown formatting is supported; put code and HTML between backticks (`like this`)."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachments = AttachmentsField()


class ReconsiderationForm(forms.Form):
    message = BoundedTextField(
        label=_("Why should the cost be reconsidered?"),
        max_length=REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How was the support you got?"),
        coerce=int,
        choices=[
            (5, _("5 — excellent")),
            (4, _("4 — good")),
            (3, _("3 — fair")),
            (2, _("2 — poor")),
            (1, _("1 — bad")),
        ],
        widget=forms.RadioSelect,
    )
    comment = BoundedTextField(
        label=_("Comment"),
        max_length=REASON_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AccessDetailsForm(forms.Form):
    host = BoundedTextField(
        label=_("Server or admin URL"),
        max_length=ACCESS_DETAILS_MAX_CHARS["host"],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    login = BoundedTextField(
        label=_("Login"),
        max_length=ACCESS_DETAILS_MAX_CHARS["login"],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    password = BoundedTextField(
        label=_("Password"),
        max_length=ACCESS_DETAILS_MAX_CHARS["password"],
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    notes = BoundedTextField(
        label=_("Notes"),
        max_length=ACCESS_DETAILS_MAX_CHARS["notes"],
        required=False,
        help_text=_("E.g. the SSH port, or where the store is installed."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All tickets")), (ACTIVE, _("Not yet resolved"))]
        + [(value, capfirst(label)) for value, label in TicketStatus.choices],
        widget=Select,
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Subject or ticket number")}
        ),
    )
    hide_closed = forms.BooleanField(label=_("Hide closed and cancelled"), required=False)
