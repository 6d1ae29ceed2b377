"""Customer accounts and their users.

An account holds the points and the tickets; its users (memberships) act for it: one owner, and
secondary users such as a webmaster. A user acts for at most one account.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    """The points holder: a customer company or person, with its users (memberships)."""

    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The e-mails about the account, in the outbox (`Notification.objects.filter(account=...)`).
    notifications = GenericRelation(
        "notifications.Notification",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="account",
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer account")
        verbose_name_plural = _("customer accounts")

    def __str__(self):
        return self.name


class MembershipRole(models.TextChoices):
    OWNER = "owner", _("owner")
    MEMBER = "member", _("secondary user")


class Membership(models.Model):
    """A user acting for an account: at most one account per user, one owner per account."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("account")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="membership",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("account user")
        verbose_name_plural = _("account users")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(role=MembershipRole.OWNER),
                name="membership_one_owner_per_account",
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}) — {self.account}"
