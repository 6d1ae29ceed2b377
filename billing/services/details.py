"""The billing details an account owner keeps for the documents issued from now on."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.locks import lock_account
from accounts.models import Account, MembershipRole
from core.errors import HelpDeskError

from ..models import BillingDetails


class NotAccountOwner(HelpDeskError):
    code = "not_account_owner"


@transaction.atomic
def billing_details_update(
    *, account: Account, actor: AbstractBaseUser, company: str, address: str, tax_id: str
) -> BillingDetails:
    """Only the account's owner changes them; documents already issued keep what they printed."""
    lock_account(account.pk)
    membership = getattr(actor, "membership", None)
    if (
        membership is None
        or membership.account_id != account.pk
        or membership.role != MembershipRole.OWNER
    ):
        raise NotAccountOwner(_("Only the account owner can change the billing details."))
    details, _created = BillingDetails.objects.update_or_create(
        account=account,
        defaults={"company": company.strip(), "address": address.strip(), "tax_id": tax_id.strip()},
    )
    return details
