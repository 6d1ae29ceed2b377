"""Response headers that every page needs, whatever view made it."""

from django.utils.cache import patch_cache_control


class PrivatePagesNotStoredMiddleware:
    """A page shown to a logged-in person is theirs alone: no shared cache (a proxy) may keep it,
    and the browser must not keep it either (the back button after logging out on a shared
    computer must not show a statement or a ticket).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
