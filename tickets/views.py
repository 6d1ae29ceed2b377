"""The customer's ticket pages: my tickets, filing a ticket, the ticket page and its actions.

Every view reads through `tickets.selectors` (scoped to the customer's account: another account's
ticket is a 404) and changes things only through `tickets.services`.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import customer_required
from catalog.selectors import catalog_groups_active
from core.errors import HelpDeskError
from core.pagination import paginate
from points.models import HoldStatus
from points.selectors import points_summary
from points.services import InsufficientPoints

from . import selectors, services
from .forms import (
    AccessDetailsForm,
    CustomerReplyForm,
    RatingForm,
    ReconsiderationForm,
    TicketFileForm,
    TicketFilterForm,
)
from .list_rows import ticket_rows
from .models import (
    Attachment,
    CostChangeKind,
    ReconsiderationStatus,
    Ticket,
    TicketOutcome,
    TicketStatus,
)

DRAFT_SESSION_KEY = "ticket_draft"
PER_PAGE = 20


def _ticket_page_or_404(request, pk, **options):
    try:
        return selectors.customer_ticket_page(
            account=request.account, user=request.user, ticket_id=pk, **options
        )
    except Ticket.DoesNotExist as error:
        raise Http404(_("No such ticket.")) from error


def _buy_points_url(next_url: str | None = None) -> str:
    url = reverse("points:buy")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _insufficient_message(error: InsufficientPoints, *, next_url: str | None = None):
    return format_html(
        '{} <a href="{}">{}</a>', str(error), _buy_points_url(next_url), _("Buy points")
    )


# --- My tickets -------------------------------------------------------------------------------


@customer_required
@require_GET
def ticket_list(request):
    form = TicketFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    tickets = selectors.TicketList(
        account=request.account,
        status=filters.get("status", ""),
        query=filters.get("q", ""),
        hide_closed=filters.get("hide_closed", False),
    )
    page_obj = paginate(request, tickets, per_page=PER_PAGE)
    page_obj.object_list = ticket_rows(page_obj.object_list)
    context = {"form": form, "page_obj": page_obj, "filtered": any(filters.values())}
    return render(request, "tickets/list.html", context)


# --- Filing -----------------------------------------------------------------------------------


@customer_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    groups = catalog_groups_active()
    summary = points_summary(account=request.account)
    insufficient = hotrush_base_price = draft = None
    if request.method == "POST":
        form = TicketFileForm(
            request.POST, request.FILES, groups=groups, available=summary.available
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_file(
                    account=request.account,
                    filed_by=request.user,
                    category=data["category"],
                    subject=data["subject"],
                    description=data["description"],
                    is_urgent=data["is_urgent"],
                    quote_first=data["quote_first"],
                    attachments=data["attachments"],
                )
            except InsufficientPoints as error:
                insufficient = error
                if data["is_urgent"]:
                    # The refusal shows how HotRush made the price: "80 points: 40 × 2".
                    hotrush_base_price = data["category"].capture_points
                request.session[DRAFT_SESSION_KEY] = form.draft()
            except HelpDeskError as error:
                form.add_error(None, str(error))
            else:
                request.session.pop(DRAFT_SESSION_KEY, None)
                messages.success(request, _filed_message(ticket))
                return redirect(ticket)
    else:
        # The draft stays until the ticket is filed or the customer discards it.
        draft = request.session.get(DRAFT_SESSION_KEY)
        form = TicketFileForm(initial=draft, groups=groups, available=summary.available)
    context = {
        "form": form,
        "groups": groups,
        "summary": summary,
        "insufficient": insufficient,
        "hotrush_base_price": hotrush_base_price,
        "draft": draft,
        "buy_url": _buy_points_url(reverse("tickets:new")),
        "had_attachments": bool(request.FILES),
    }
    return render(request, "tickets/new.html", context)


@customer_required
@require_POST
def ticket_draft_discard(request):
    if request.session.pop(DRAFT_SESSION_KEY, None) is not None:
        messages.info(request, _("The draft is discarded."))
    return redirect("tickets:new")


def _filed_message(ticket: Ticket) -> str:
    hold = getattr(ticket, "hold", None)
    if hold is None:
        return _(
            "Ticket #%(id)s is filed. We will send you a price quote; nothing is captured "
            "until you accept it."
        ) % {"id": ticket.pk}
    if not hold.amount:
        return _("Ticket #%(id)s is filed. It costs no points.") % {"id": ticket.pk}
    return ngettext(
        "Ticket #%(id)s is filed. %(points)s point is captured until it is resolved.",
        "Ticket #%(id)s is filed. %(points)s points are captured until it is resolved.",
        hold.amount,
    ) % {"id": ticket.pk, "points": hold.amount}


# --- The ticket page --------------------------------------------------------------------------


# The content of the ticket page is cached by its version (selectors.customer_ticket_version: the
# digest of every row it shows), so it is shown again only while it is still true, and only after
# the account's access check. It holds no request, user or message: the layout around it is
# rendered for each request, and each form's CSRF token is put in place of this marker.
PAGE_CACHE_SECONDS = selectors.THREAD_CACHE_SECONDS


@functools.cache
def _csrf_marker() -> str:
    return "csrf-" + salted_hmac("tickets.page-csrf-marker", "marker").hexdigest()


def _content_key(pk, version: selectors.CustomerTicketVersion) -> str:
    language, time_zone = get_language(), timezone.get_current_timezone_name()
    return f"tickets:page:{pk}:{version.digest}:{language}:{time_zone}"


def _page_content(request, pk, version, forms) -> tuple[str, str, int]:
    """The page's content (subject, HTML with the CSRF marker) and how long it may be cached."""
    now = timezone.now()
    page = _ticket_page_or_404(request, pk, at=now, version=version)
    context = {
        "page": page,
        "ticket": page.ticket,
        "reply_form": forms.get("reply_form") or CustomerReplyForm(),
        "reconsider_form": forms.get("reconsider_form") or ReconsiderationForm(),
        "rating_form": forms.get("rating_form") or RatingForm(),
        "access_form": forms.get("access_form") or AccessDetailsForm(),
        # The choices the template compares with, rather than their values spelled out.
        "HoldStatus": HoldStatus,
        "TicketStatus": TicketStatus,
        "TicketOutcome": TicketOutcome,
        "CostChangeKind": CostChangeKind,
        "ReconsiderationStatus": ReconsiderationStatus,
        "buy_url": _buy_points_url(),
        "csrf_token": _csrf_marker(),
    }
    html = render_to_string("tickets/detail_content.html", context)
    seconds = min(PAGE_CACHE_SECONDS, page.shows_the_same_for(now).total_seconds())
    return page.ticket.subject, html, int(seconds)


def _render_ticket(request, pk, *, status=200, **forms):
    """The ticket page; its content from the cache unless a form comes back with errors."""
    try:
        version = selectors.customer_ticket_version(account=request.account, ticket_id=pk)
    except Ticket.DoesNotExist as error:
        raise Http404(_("No such ticket.")) from error
    key = _content_key(pk, version)
    cached = None if forms else cache.get(key)
    if cached is not None:
        subject, html = cached
    else:
        subject, html, seconds = _page_content(request, pk, version, forms)
        # Kept only if nothing changed while it was rendered: else it may be newer than `version`.
        if not forms and seconds > 0:
            if selectors.customer_ticket_version(account=request.account, ticket_id=pk) == version:
                cache.set(key, (subject, html), seconds)
    context = {
        "ticket_id": pk,
        "subject": subject,
        "content": mark_safe(html.replace(_csrf_marker(), get_token(request))),  # noqa: S308
    }
    return render(request, "tickets/detail.html", context, status=status)


@customer_required
@require_GET
def ticket_detail(request, pk):
    return _render_ticket(request, pk)


def _ticket_or_404(request, pk) -> Ticket:
    try:
        return selectors.ticket_for_account(account=request.account, ticket_id=pk)
    except Ticket.DoesNotExist as error:
        raise Http404(_("No such ticket.")) from error


def _done(request, ticket: Ticket, text: str, *, anchor: str = ""):
    messages.success(request, text)
    return redirect(ticket.get_absolute_url() + (f"#{anchor}" if anchor else ""))


def _refused(request, ticket: Ticket, error: Exception):
    if isinstance(error, InsufficientPoints):
        messages.error(request, _insufficient_message(error))
    else:
        messages.error(request, str(error))
    return redirect(ticket)


@customer_required
@require_POST
def ticket_reply(request, pk):
    ticket = _ticket_or_404(request, pk)
    form = CustomerReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_ticket(request, pk, reply_form=form)
    was_resolved = ticket.status == TicketStatus.RESOLVED
    try:
        message = services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=form.cleaned_data["body"],
            attachments=form.cleaned_data["attachments"],
        )
    except HelpDeskError as error:
        return _refused(request, ticket, error)
    text = (
        _("Your reply is sent; the ticket is reopened.")
        if was_resolved
        else _("Your reply is sent.")
    )
    return _done(request, ticket, text, anchor=f"message-{message.pk}")


@customer_required
@require_http_methods(["GET", "POST"])
def ticket_cancel(request, pk):
    """GET asks for confirmation (cancelling can't be undone); POST cancels."""
    page = _ticket_page_or_404(request, pk)
    ticket = page.ticket
    if request.method == "GET":
        return render(request, "tickets/confirm_cancel.html", {"page": page, "ticket": ticket})
    try:
        services.ticket_cancel(ticket=ticket, actor=request.user)
    except HelpDeskError as error:
        return _refused(request, ticket, error)
    hold = page.hold
    if hold is not None and hold.amount:
        text = ngettext(
            "The ticket is cancelled and its %(points)s point is back in your balance.",
            "The ticket is cancelled and its %(points)s points are back in your balance.",
            hold.amount,
        ) % {"points": hold.amount}
    else:
        text = _("The ticket is cancelled.")
    return _done(request, ticket, text)


@customer_required
@require_POST
def ticket_remove_urgency(request, pk):
    ticket = _ticket_or_404(request, pk)
    try:
        services.ticket_remove_urgency(ticket=ticket, actor=request.user)
    except HelpDeskError as error:
        return _refused(request, ticket, error)
    return _done(request, ticket, _("The ticket is no longer HotRush; the surcharge is returned."))


@customer_required
@require_POST
def ticket_accept_quote(request, pk):
    ticket = _ticket_or_404(request, pk)
    try:
        services.ticket_accept_quote(ticket=ticket, actor=request.user)
    except HelpDeskError as error:
        return _refused(request, ticket, error)
    return _done(request, ticket, _("You accepted the quote; its points are captured."))


@customer_required
@require_http_methods(["GET", "POST"])
def ticket_decline_quote(request, pk):
    """GET asks for confirmation (declining cancels the ticket); POST declines."""
    page = _ticket_page_or_404(request, pk)
    ticket = page.ticket
    if request.method == "GET":
        return render(request, "tickets/confirm_decline.html", {"page": page, "ticket": ticket})
    try:
        services.ticket_decline_quote(ticket=ticket, actor=request.user)
    except HelpDeskError as error:
        return _refused(request, ticket, error)
    return _done(request, ticket, _("You declined the quote; the ticket is cancelled at no cost."))


@customer_required
@require_POST
def ticket_reconsider(request, pk):
    ticket = _ticket_or_404(request, pk)
    form = ReconsiderationForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, reconsider_form=form)
    try:
        services.ticket_request_reconsideration(
            ticket=ticket, actor=request.user, message=form.cleaned_data["message"]
        )
    except HelpDeskError as error:
        return _refused(request, ticket, error)
    return _done(
        request,
        ticket,
        _("Your request is sent. We will review the cost and tell you what we decided."),
        anchor="cost",
    )


@customer_required
@require_POST
def ticket_rate(request, pk):
    ticket = _ticket_or_404(request, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, rating_form=form)
    try:
        services.ticket_rate(
            ticket=ticket,
            actor=request.user,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
    except services.TicketError as error:
        return _refused(request, ticket, error)
    return _done(request, ticket, _("Thank you for rating our support."), anchor="rating")


@customer_required
@require_POST
def ticket_access_details(request, pk):
    ticket = _ticket_or_404(request, pk)
    form = AccessDetailsForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, access_form=form)
    try:
        services.access_details_set(ticket=ticket, actor=request.user, **form.cleaned_data)
    except services.TicketError as error:
        return _refused(request, ticket, error)
    return _done(
        request,
        ticket,
        _("Your access details are stored encrypted; only support staff on this ticket see them."),
        anchor="access",
    )


# --- Attachments ------------------------------------------------------------------------------


@login_required
@require_GET
def attachment_download(request, ticket_pk, pk):
    """Files are never served from a public URL: only to people who may see the ticket."""
    try:
        attachment = selectors.attachment_for_user(
            user=request.user, ticket_id=ticket_pk, attachment_id=pk
        )
    except Attachment.DoesNotExist as error:
        raise Http404(_("No such attachment.")) from error
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-cache"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
