from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("details/", views.billing_details, name="details"),
    path("orders/<int:order_id>/receipt/", views.receipt, name="receipt"),
    path("orders/<int:order_id>/receipt.pdf", views.receipt_download, name="receipt_pdf"),
    path("orders/<int:order_id>/credit-note/", views.credit_note, name="credit_note"),
    path(
        "orders/<int:order_id>/credit-note.pdf",
        views.credit_note_download,
        name="credit_note_pdf",
    ),
]
