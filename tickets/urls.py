from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_new, name="new"),
    path("new/discard-draft/", views.ticket_draft_discard, name="discard_draft"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/reply/", views.ticket_reply, name="reply"),
    path("<int:pk>/cancel/", views.ticket_cancel, name="cancel"),
    # "Drop HotRush" on the page; the path is kept for links and bookmarks already out there.
    path("<int:pk>/drop-urgency/", views.ticket_remove_urgency, name="remove_urgency"),
    path("<int:pk>/quote/accept/", views.ticket_accept_quote, name="accept_quote"),
    path("<int:pk>/quote/decline/", views.ticket_decline_quote, name="decline_quote"),
    path("<int:pk>/reconsider/", views.ticket_reconsider, name="reconsider"),
    path("<int:pk>/rate/", views.ticket_rate, name="rate"),
    path("<int:pk>/access-details/", views.ticket_access_details, name="access_details"),
    path(
        "<int:ticket_pk>/attachments/<int:pk>/",
        views.attachment_download,
        name="attachment",
    ),
]
