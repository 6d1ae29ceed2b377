"""Second factors: enrolling an authenticator, recovery codes, verifying a code at sign-in,
turning it off (customers) and resetting someone else's (staff with the permission, audited)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditKind
from audit.services import audit_record
from core.errors import HelpDeskError

from .models import RecoveryCode, RecoveryCodes, recovery_code_hash

if TYPE_CHECKING:
    from django_otp.models import Device

    from helpdesk.models import User

RECOVERY_CODE_COUNT = 10
# Crockford's base32 without the letters people misread.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The longest code anyone types: six digits, or a recovery code with its dashes.
TOKEN_MAX_CHARS = 24


class SecondFactorError(HelpDeskError):
    pass


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))  # 80 bits
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


@transaction.atomic
def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The authenticator being set up: a new secret each time the page is opened anew, kept
    unconfirmed until a code from it is typed."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


@transaction.atomic
def totp_enrolment_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the authenticator with a code it shows; returns ten new recovery codes, which are
    shown once and kept only hashed."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(_clean(token)):
        raise SecondFactorError(
            _("That code is not right. Type the six digits your app shows now."),
            code="second_factor_wrong",
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_issue(user=user)


@transaction.atomic
def recovery_codes_issue(*, user: User) -> list[str]:
    """Ten new codes; the previous ones stop working."""
    device, _created = RecoveryCodes.objects.get_or_create(
        user=user, defaults={"name": _("Recovery codes")}
    )
    device.codes.all().delete()
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_hash=recovery_code_hash(code)) for code in codes
    )
    return codes


def _clean(token: str) -> str:
    return "".join((token or "").split())[:TOKEN_MAX_CHARS]


def second_factor_verify(*, user: User, token: str) -> Device | None:
    """The device that accepts `token` (the authenticator's code or an unused recovery code),
    or None. Each device throttles its own failures; the caller counts them in the lock-out."""
    token = _clean(token)
    if not token:
        return None
    for device in devices_for_user(user, confirmed=True):
        with transaction.atomic():
            if device.verify_token(token):
                return device
    return None


def recovery_codes_left(*, user: User) -> int:
    return RecoveryCode.objects.filter(device__user=user, used_at__isnull=True).count()


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    """A customer turns their second factor off (the page asks for their password first)."""
    if user.is_staff:
        raise SecondFactorError(
            _("Staff cannot turn two-factor sign-in off."), code="second_factor_required"
        )
    _remove_devices(user)


@transaction.atomic
def two_factor_reset(*, user: User, actor: User) -> None:
    """Staff with the permission remove another person's second factor (a lost phone): they enrol
    again at their next sign-in. Recorded in the audit trail."""
    if not actor.has_perm("security.reset_two_factor"):
        raise SecondFactorError(
            _("You may not reset two-factor sign-in."), code="permission_denied"
        )
    if actor.pk == user.pk:
        raise SecondFactorError(
            _("Ask another staff member to reset your own two-factor sign-in."),
            code="second_factor_own_reset",
        )
    removed = _remove_devices(user)
    audit_record(
        kind=AuditKind.DEVICE_RESET, actor=actor, target=user, changes={"devices": removed}
    )


@transaction.atomic
def two_factor_remove_all(*, user: User) -> int:
    """Every second factor of `user` goes (their personal data is being erased)."""
    return _remove_devices(user)


def _remove_devices(user: User) -> int:
    removed, _per_model = TOTPDevice.objects.filter(user=user).delete()
    RecoveryCodes.objects.filter(user=user).delete()
    return removed
