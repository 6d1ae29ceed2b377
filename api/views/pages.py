"""The "API tokens" page: a customer's personal tokens (name, created, last used), a new one's
secret shown once, and revoking."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import customer_required
from core.errors import HelpDeskError

from ..forms import ApiTokenForm
from ..models import ApiToken
from ..services import api_token_create, api_token_revoke


@customer_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    secret = None
    if form.is_bound and form.is_valid():
        try:
            token, secret = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except HelpDeskError as error:
            form.add_error("name", str(error))
        else:
            form = ApiTokenForm()
            messages.success(request, _("Token “%(name)s” is created.") % {"name": token.name})
    context = {
        "form": form,
        # Shown in this answer only; the page is never stored (private, no-store).
        "secret": secret,
        "tokens": ApiToken.objects.filter(user=request.user, revoked_at=None),
        "reference_url": reverse("api:docs"),
    }
    return render(request, "api/tokens.html", context)


@customer_required
@require_POST
def api_token_revoke_view(request, pk):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user, revoked_at=None), pk=pk)
    api_token_revoke(token=token)
    messages.success(request, _("Token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("api_tokens")
