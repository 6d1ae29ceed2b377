from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
]
