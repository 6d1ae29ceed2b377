"""The API's JSON parser: the body bounded by DATA_UPLOAD_MAX_MEMORY_SIZE, its nesting and
numbers by `core.json_input`; anything else is a 400 problem, never a server error."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.json_input import json_loads_bounded


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise ParseError(_("The body is too large."))
        try:
            return json_loads_bounded(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise ParseError(
                _("The body is not valid JSON: %(error)s") % {"error": error}
            ) from error
