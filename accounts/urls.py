from django.urls import path

from . import views

# Under /accounts/, beside the login and password pages of the project; the names are global.
urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("signup/sent/", views.signup_sent, name="signup_sent"),
    path("signup/<str:token>/", views.SignupFinishView.as_view(), name="signup_finish"),
    path("users/", views.account_users, name="account_users"),
    path("users/<int:pk>/remove/", views.account_user_remove, name="account_user_remove"),
    path(
        "invitation/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="account_invitation",
    ),
]
