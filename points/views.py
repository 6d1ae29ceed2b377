from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import points_summary
from .services import account_for_user


@login_required
def overview(request):
    account = account_for_user(request.user)
    summary = points_summary(account=account) if account else None
    return render(request, "points/overview.html", {"account": account, "summary": summary})
