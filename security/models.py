"""Second factors beside django-otp's TOTP device: single-use recovery codes, stored hashed; and a
record of each signed-in session (device, last seen) so a person can sign the others out."""

import hashlib

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin


def recovery_code_hash(code: str) -> str:
    """Codes carry 80 random bits: a plain SHA-256 is as safe as a slow hash and checks ten of
    them at once. Dashes, spaces and case are ignored, as people type them."""
    normalized = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalized.encode()).hexdigest()


class RecoveryCodes(ThrottlingMixin, Device):
    """A person's set of recovery codes, one device to django-otp: any unused code verifies once."""

    class Meta:
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user"], name="recovery_codes_one_set_per_user")
        ]
        permissions = [
            ("reset_two_factor", _("Can reset another person's two-factor sign-in")),
        ]

    def get_throttle_factor(self):
        return 1

    @transaction.atomic
    def verify_token(self, token):
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        code = (
            self.codes.select_for_update()
            .filter(code_hash=recovery_code_hash(str(token)[:64]), used_at__isnull=True)
            .first()
        )
        if code is None:
            self.throttle_increment()
            return False
        code.used_at = timezone.now()
        code.save(update_fields=["used_at"])
        self.throttle_reset()
        return True


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodes, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self):
        return f"recovery code #{self.pk}"


class UserSession(models.Model):
    """One signed-in browser: refreshed by `SessionActivityMiddleware` at most once a minute."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    user_agent = models.CharField(max_length=300, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="user_session_recent_idx")]

    def __str__(self):
        return f"{self.user_id}: {self.user_agent[:40]}"
