"""/api/: version 1 of the API, its schema and its reference page."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import customer

app_name = "api"

v1 = [
    path("me", customer.MeView.as_view(), name="me"),
    path("categories", customer.CategoryListView.as_view(), name="categories"),
    path("packages", customer.PackageListView.as_view(), name="packages"),
    path("statement", customer.StatementView.as_view(), name="statement"),
    path("lots", customer.LotListView.as_view(), name="lots"),
    path("tickets", customer.TicketListView.as_view(), name="tickets"),
    path("tickets/<int:pk>", customer.TicketDetailView.as_view(), name="ticket"),
    path(
        "tickets/<int:ticket_pk>/attachments/<int:pk>",
        customer.AttachmentDownloadView.as_view(),
        name="attachment",
    ),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
