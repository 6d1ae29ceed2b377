from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from points.services import account_for_user

from .models import Ticket


@login_required
def ticket_list(request):
    account = account_for_user(request.user)
    tickets = Ticket.objects.filter(account=account).select_related("category")
    return render(request, "tickets/list.html", {"tickets": tickets})


@login_required
def ticket_detail(request, pk):
    account = account_for_user(request.user)
    ticket = get_object_or_404(Ticket, pk=pk, account=account)
    return render(request, "tickets/detail.html", {"ticket": ticket})
