"""What may be attached to a message: how many files, how large, of which types, and whether a
file's content is what its name says (the HELPDESK_ATTACHMENT_* settings)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .errors import AttachmentRejected

TEXT = "text"
# For each allowed extension: the content type the file is stored and served with (the browser's
# claim is not trusted), and how its content must start, as alternatives of (offset, bytes)
# parts; TEXT: no NUL byte. Extensions added in settings but unknown here are stored as binary.
ATTACHMENT_TYPES: dict[str, tuple[str, object]] = {
    "png": ("image/png", [((0, b"\x89PNG\r\n\x1a\n"),)]),
    "jpg": ("image/jpeg", [((0, b"\xff\xd8\xff"),)]),
    "jpeg": ("image/jpeg", [((0, b"\xff\xd8\xff"),)]),
    "gif": ("image/gif", [((0, b"GIF87a"),), ((0, b"GIF89a"),)]),
    "webp": ("image/webp", [((0, b"RIFF"), (8, b"WEBP"))]),
    "pdf": ("application/pdf", [((0, b"%PDF-"),)]),
    "zip": ("application/zip", [((0, b"PK\x03\x04"),), ((0, b"PK\x05\x06"),)]),
    "txt": ("text/plain", TEXT),
    "log": ("text/plain", TEXT),
    "csv": ("text/csv", TEXT),
    "json": ("application/json", TEXT),
}


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _content_matches(head: bytes, rule: object) -> bool:
    if rule is None:
        return True
    if rule == TEXT:
        return b"\x00" not in head
    return any(
        all(head[offset : offset + len(part)] == part for offset, part in alternative)
        for alternative in rule
    )


def attachments_check(files: Iterable[UploadedFile]) -> list[UploadedFile]:
    """The files, checked against the attachment limits (HELPDESK_ATTACHMENT_* settings).

    Raises AttachmentRejected naming the first file refused. Each accepted file's content type is
    set from its extension.
    """
    files = [upload for upload in files if upload]
    limit = settings.HELPDESK_ATTACHMENT_MAX_COUNT
    if len(files) > limit:
        raise AttachmentRejected(
            ngettext(
                "You can attach at most %(limit)s file to a message.",
                "You can attach at most %(limit)s files to a message.",
                limit,
            )
            % {"limit": limit}
        )
    allowed = [ext.lower().lstrip(".") for ext in settings.HELPDESK_ATTACHMENT_EXTENSIONS]
    max_bytes = settings.HELPDESK_ATTACHMENT_MAX_BYTES
    for upload in files:
        name = upload.name or ""
        extension = _extension(name)
        if extension not in allowed:
            raise AttachmentRejected(
                _("“%(name)s” can't be attached: allowed file types are %(types)s.")
                % {"name": name, "types": ", ".join(allowed)}
            )
        if not upload.size:
            raise AttachmentRejected(_("“%(name)s” is empty.") % {"name": name})
        if upload.size > max_bytes:
            raise AttachmentRejected(
                _("“%(name)s” is too large (%(size)s); the limit is %(limit)s per file.")
                % {
                    "name": name,
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(max_bytes),
                }
            )
        content_type, rule = ATTACHMENT_TYPES.get(extension, ("application/octet-stream", None))
        upload.seek(0)
        head = upload.read(8192)
        upload.seek(0)
        if not _content_matches(head, rule):
            raise AttachmentRejected(
                _("“%(name)s” is not a valid .%(extension)s file.")
                % {"name": name, "extension": extension}
            )
        upload.content_type = content_type
    return files
