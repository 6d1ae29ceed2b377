"""Asking for an account's data export, and the download link's check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Membership, MembershipRole

from ..errors import PrivacyError
from ..exporting import LINK_SALT
from ..models import DataExport, ExportStatus
from ..tasks import build_data_export

if TYPE_CHECKING:
    from helpdesk.models import User

LINK_TOKEN_MAX_LENGTH = 200


def _require_owner(*, account: Account, user: User) -> None:
    if not Membership.objects.filter(
        account=account, user=user, role=MembershipRole.OWNER
    ).exists():
        raise PrivacyError(
            _("Only the account's owner can export its data."), code="owner_required"
        )


@transaction.atomic
def data_export_request(*, account: Account, user: User) -> DataExport:
    """Ask for the account's data; the ZIP is made in the background and its link e-mailed."""
    _require_owner(account=account, user=user)
    if DataExport.objects.filter(account=account, status=ExportStatus.PENDING).exists():
        raise PrivacyError(
            _("An export is being prepared already; its link comes by e-mail."),
            code="export_pending",
        )
    export = DataExport.objects.create(
        account=account, requested_by=user, created_at=timezone.now()
    )
    transaction.on_commit(lambda: build_data_export.delay(export.pk))
    return export


def data_export_for_link(*, token: str, user: User) -> DataExport:
    """The export a link names, for the person it was made for, while the link is valid."""
    invalid = PrivacyError(
        _("This download link is not valid any more. Ask for a new export."),
        code="export_link_invalid",
    )
    if len(token) > LINK_TOKEN_MAX_LENGTH:
        raise invalid
    try:
        export_id = signing.loads(
            token, salt=LINK_SALT, max_age=settings.PRIVACY_EXPORT_LINK_HOURS * 3600
        )
    except signing.BadSignature as error:
        raise invalid from error
    export = DataExport.objects.filter(
        pk=export_id if isinstance(export_id, int) else None,
        requested_by=user,
        status=ExportStatus.READY,
    ).first()
    if export is None:
        raise invalid
    return export
