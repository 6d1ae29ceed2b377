"""/api/: version 1 of the API, its schema and its reference page."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import customer, integration, orders, ticket_actions, webhooks
from .views.common import NotFoundView

app_name = "api"

v1 = [
    path("me", customer.MeView.as_view(), name="me"),
    path("categories", customer.CategoryListView.as_view(), name="categories"),
    path("packages", customer.PackageListView.as_view(), name="packages"),
    path("statement", customer.StatementView.as_view(), name="statement"),
    path("lots", customer.LotListView.as_view(), name="lots"),
    path("tickets", ticket_actions.TicketsView.as_view(), name="tickets"),
    path("tickets/<int:pk>", customer.TicketDetailView.as_view(), name="ticket"),
    path(
        "tickets/<int:pk>/messages",
        ticket_actions.TicketMessagesView.as_view(),
        name="ticket_messages",
    ),
    path("tickets/<int:pk>/cancel", ticket_actions.TicketCancelView.as_view()),
    path("tickets/<int:pk>/remove-urgency", ticket_actions.TicketRemoveUrgencyView.as_view()),
    path("tickets/<int:pk>/accept-quote", ticket_actions.TicketAcceptQuoteView.as_view()),
    path("tickets/<int:pk>/decline-quote", ticket_actions.TicketDeclineQuoteView.as_view()),
    path("tickets/<int:pk>/reconsider", ticket_actions.TicketReconsiderView.as_view()),
    path("tickets/<int:pk>/rate", ticket_actions.TicketRateView.as_view()),
    path("orders", orders.OrderListView.as_view(), name="orders"),
    path("orders/<int:pk>", orders.OrderDetailView.as_view(), name="order"),
    # The vendor's systems (integration keys).
    path("integration/accounts", integration.AccountFindOrCreateView.as_view()),
    path("integration/accounts/<int:pk>", integration.AccountDetailView.as_view()),
    path("integration/accounts/<int:pk>/users", integration.AccountUsersView.as_view()),
    path(
        "integration/accounts/<int:pk>/users/<int:user_pk>",
        integration.AccountUserDetailView.as_view(),
    ),
    path("integration/accounts/<int:pk>/grants", integration.GrantView.as_view()),
    path("integration/accounts/<int:pk>/adjustments", integration.AdjustmentView.as_view()),
    path("integration/accounts/<int:pk>/statement", integration.AccountStatementView.as_view()),
    path("integration/accounts/<int:pk>/tickets", integration.AccountTicketsView.as_view()),
    path("integration/webhooks", webhooks.SubscriptionListView.as_view()),
    path("integration/webhooks/<int:pk>", webhooks.SubscriptionDetailView.as_view()),
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
    re_path(r"^", NotFoundView.as_view()),
]
