"""Pagination for pages that show several paginated lists at once, each with its own parameter."""

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(
    request: HttpRequest, items, *, param: str = "page", per_page: int = 20, fragment: str = ""
) -> Page:
    """The requested page of `items` (two queries for a queryset: the count and the page).

    The page gets `param` and `urls` (first, previous, next, last: None where there is none);
    other query parameters are kept, and `fragment` brings the reader back to the list.
    """
    page = Paginator(items, per_page).get_page(request.GET.get(param))

    def url(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return f"?{query.urlencode()}" + (f"#{fragment}" if fragment else "")

    last = page.paginator.num_pages
    page.param = param
    page.urls = {
        "first": url(1) if page.has_previous() else None,
        "previous": url(page.previous_page_number()) if page.has_previous() else None,
        "next": url(page.next_page_number()) if page.has_next() else None,
        "last": url(last) if page.has_next() else None,
    }
    return page
