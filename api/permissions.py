"""Which credential may use which endpoints.

Customer endpoints: a personal token or the session of a user with an account; the account is
`request.account`, and everything read is scoped to it (another account's objects are 404).
Integration endpoints: an integration key holding the endpoint's permission.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from accounts.selectors import account_for_user

from .models import IntegrationKey


class IsCustomer(BasePermission):
    message = _("This needs a personal token (or the session) of a user of a customer account.")

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if isinstance(request.auth, IntegrationKey):
            return False
        account = account_for_user(request.user)
        if account is None:
            return False
        request.account = account
        return True


class IntegrationPermission(BasePermission):
    """An integration key with the permission named by the view's `integration_permission`."""

    message = _("This integration key does not have the permission this needs.")

    def has_permission(self, request, view):
        key = request.auth
        return isinstance(key, IntegrationKey) and getattr(key, view.integration_permission)
