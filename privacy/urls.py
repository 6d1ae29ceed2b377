from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.privacy_page, name="page"),
    path("export/", views.export_request, name="export"),
    path("export/<str:token>/", views.export_download, name="export_download"),
    path("erasure/", views.erasure_request, name="erasure"),
]
