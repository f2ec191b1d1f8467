from django.urls import path

from staff import views

app_name = "staff"
urlpatterns = [
    path("", views.scanner, name="scanner"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
]
