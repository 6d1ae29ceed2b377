"""CSV downloads streamed line by line, safe to open in a spreadsheet program."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.http import StreamingHttpResponse


class _Echo:
    """A file-like object whose write() hands the CSV line back (for streaming)."""

    def write(self, value):
        return value


def csv_text(value: str) -> str:
    """Keep spreadsheet programs from running text as a formula (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_response(rows: Iterable[list], *, filename: str) -> StreamingHttpResponse:
    """Rows written as they are produced: memory stays flat however many there are."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
