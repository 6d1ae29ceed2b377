"""Form widgets rendered in Python where Django's templates cost more than the page around them."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


class Select(forms.Select):
    """Django's <select>, the same elements and attributes, built in Python: its template includes
    two more templates per option, which made a ten-option filter cost as much as a list's rows.

    The class keeps Django's name, so a field's `widget_type` (the page's CSS hook) stays "select".
    Grouped choices are left to Django's template.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        if any(group_name for group_name, _options, _index in widget["optgroups"]):
            return super().render(name, value, attrs, renderer)
        options = format_html_join(
            "\n",
            '<option value="{}"{}>{}</option>',
            (
                (str(option["value"]), flatatt(option["attrs"]), option["label"])
                for _group_name, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>\n{}\n</select>', widget["name"], flatatt(widget["attrs"]), options
        )
