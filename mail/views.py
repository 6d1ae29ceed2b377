import logging

from django.conf import settings
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import InboundSource
from .services import inbound_ingest
from .signing import SIGNATURE_HEADER, SignatureRejected, inbound_verify

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def inbound(request):
    """A raw MIME message from a mail service's inbound routing, signed (see mail.signing).

    200 with what became of it (also for a message received before: the sender may retry
    safely), 401 when unsigned, 413 when too large (the message is not kept).
    """
    if not settings.HELPDESK_MAIL_INBOUND_SECRET:
        raise Http404("The inbound e-mail endpoint is off.")
    # One byte past the limit, never the whole body.
    body = request.read(settings.HELPDESK_MAIL_MAX_BYTES + 1)
    if len(body) > settings.HELPDESK_MAIL_MAX_BYTES:
        return JsonResponse({"error": "The message is too large."}, status=413)
    try:
        inbound_verify(body=body, header=request.headers.get(SIGNATURE_HEADER, ""))
    except SignatureRejected as error:
        logger.warning("Inbound e-mail refused: %s", error)
        return JsonResponse({"error": str(error)}, status=401)
    if not body:
        return JsonResponse({"error": "The body holds no message."}, status=400)
    result = inbound_ingest(raw=body, source=InboundSource.HTTP)
    inbound_email = result.inbound
    return JsonResponse(
        {
            "id": inbound_email.pk,
            "status": inbound_email.status,
            "outcome": inbound_email.outcome,
            "duplicate": not result.created,
        }
    )
