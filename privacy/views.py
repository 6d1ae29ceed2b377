"""The customer's personal-data page: export the account's data (owner), ask for erasure; and the
export's download, through the link e-mailed to the owner."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import customer_required
from accounts.models import MembershipRole
from core.errors import HelpDeskError

from . import services
from .models import DataExport, ErasureRequest, ErasureStatus


@customer_required
@require_GET
def privacy_page(request):
    is_owner = request.user.membership.role == MembershipRole.OWNER
    context = {
        "is_owner": is_owner,
        "exports": DataExport.objects.filter(account=request.account)[:5] if is_owner else [],
        "erasure_pending": ErasureRequest.objects.filter(
            user=request.user, status=ErasureStatus.PENDING
        ).exists(),
    }
    return render(request, "privacy/page.html", context)


@customer_required
@require_POST
def export_request(request):
    try:
        services.data_export_request(account=request.account, user=request.user)
    except HelpDeskError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("We are preparing your data; the download link comes by e-mail.")
        )
    return redirect("privacy:page")


@customer_required
@require_GET
def export_download(request, token):
    try:
        export = services.data_export_for_link(token=token, user=request.user)
    except HelpDeskError as error:
        raise Http404(str(error)) from error
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=f"helpdesk-data-{export.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )


@customer_required
@require_POST
def erasure_request(request):
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that erasure cannot be undone."))
        return redirect("privacy:page")
    try:
        services.erasure_request(user=request.user)
    except HelpDeskError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your request was sent to our staff."))
    return redirect("privacy:page")
