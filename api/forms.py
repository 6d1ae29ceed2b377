from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import BoundedTextField

from .models import NAME_MAX_CHARS


class ApiTokenForm(forms.Form):
    name = BoundedTextField(
        label=_("Name"),
        max_length=NAME_MAX_CHARS,
        help_text=_("What uses the token, e.g. “monitoring script”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
