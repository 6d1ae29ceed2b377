from django.urls import path

from . import views

app_name = "points"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("statement.csv", views.export, name="export"),
    path("buy/", views.buy, name="buy"),
    path("low-balance-alert/", views.balance_alert, name="balance_alert"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("webhook/", views.webhook, name="webhook"),
]
