"""Cursor pagination: stable pages however many rows arrive meanwhile, and no COUNT query.

Every ordering here starts with a date-time column; a cursor whose position is not an aware
date-time (a forged one) is refused as an invalid cursor (404) instead of reaching the database.
"""

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

PAGE_SIZE = 20
PAGE_SIZE_MAX = 200


class NewestFirstPagination(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                position = parse_datetime(cursor.position)
            except ValueError:
                position = None
            if position is None or position.tzinfo is None:
                raise NotFound(self.invalid_cursor_message)
        return cursor


class StatementPagination(NewestFirstPagination):
    ordering = ("-dated_at", "-id")


class TicketPagination(NewestFirstPagination):
    ordering = ("-last_activity_at", "-id")


class LotPagination(NewestFirstPagination):
    ordering = ("expires_at", "id")
