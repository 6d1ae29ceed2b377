"""What the code below a request may know about it without being handed it: the client's address.

The audit trail records where each staff action came from; services deep in the layers should not
take the address as an argument threaded through every call. The middleware sets it for the
duration of one request (a context variable, so threads and async tasks never see each other's).
"""

from __future__ import annotations

from contextvars import ContextVar

from .clients import client_ip

_client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


def current_client_address() -> str | None:
    """The address of the client whose request is being served; None outside a request (jobs,
    commands)."""
    return _client_address.get()


class ClientAddressMiddleware:
    """Makes the client's address (as `core.clients.client_ip` trusts it) known to the services
    called while the request is served."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _client_address.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _client_address.reset(token)
