"""Personal data requests: an account's data exported as a ZIP, and erasure asked for by a person
(or an account's owner, for the whole account) and approved by staff."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("being prepared")
    READY = "ready", _("ready")
    FAILED = "failed", _("failed")
    PURGED = "purged", _("removed after its link expired")


class DataExport(models.Model):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    file = models.FileField(upload_to="exports/", blank=True)
    created_at = models.DateTimeField(_("asked for"))
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")

    def __str__(self):
        return _("Export #%(id)s") % {"id": self.pk}


class ErasureStatus(models.TextChoices):
    PENDING = "pending", _("waiting for staff")
    DONE = "done", _("erased")
    DECLINED = "declined", _("declined")


class ErasureRequest(models.Model):
    """`user`'s personal data, or with `whole_account` that of every user of `account`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("person"),
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    whole_account = models.BooleanField(_("the whole account"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ErasureStatus.choices, default=ErasureStatus.PENDING
    )
    created_at = models.DateTimeField(_("asked for"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        permissions = [("erase_personal_data", _("Can approve the erasure of personal data"))]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="erasure_request_one_pending_per_user",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="erasure_request_decided_when_not_pending",
            ),
        ]

    def __str__(self):
        return _("Erasure request #%(id)s") % {"id": self.pk}
