"""The API tokens page, under /accounts/ beside the account's other pages (global names)."""

from django.urls import path

from .views import pages

urlpatterns = [
    path("api-tokens/", pages.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", pages.api_token_revoke_view, name="api_token_revoke"),
]
