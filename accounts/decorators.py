from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .selectors import account_for_user


def customer_required(view):
    """Pages of a customer account: log in first; `request.account` is the user's account.

    Staff have no account: they work in the admin. Anyone else without one is told so (403).
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = account_for_user(request.user)
        if account is None:
            if request.user.is_staff:
                return redirect("admin:index")
            return render(request, "no_account.html", status=403)
        request.account = account
        return view(request, *args, **kwargs)

    return wrapper
