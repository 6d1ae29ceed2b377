"""How a password is checked and a session's user is read: Django's ModelBackend, with the user's
account read in the same query."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied


class AccountUserBackend(ModelBackend):
    """A session's user comes with their membership and its account (one query, not two): every
    customer page asks for them (`accounts.selectors.account_for_user`)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            # The password was checked here. ModelBackend, listed after this one only for the
            # sessions signed in before it, would hash it a second time for nothing.
            raise PermissionDenied
        return user

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("membership__account")
        try:
            user = users.get(pk=user_id)
        except users.model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
