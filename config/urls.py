from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from django.views.decorators.cache import cache_control
from django.views.decorators.vary import vary_on_headers
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from config import health, metrics
from staff import views as staff_views


class IdConverter:
    """Database ids: at most 18 digits, so a giant number is a 404 rather than an overflow in the database."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


# Registered before the routes that use <id:...> are imported.
register_converter(IdConverter, "id")

from redemption.api import errors as api_errors  # noqa: E402
from redemption.pages import urls as pages  # noqa: E402

# The scripts' words: this project's catalogue alone (not the admin's), kept an hour per language.
catalog = cache_control(max_age=3600)(
    vary_on_headers("Accept-Language", "Cookie")(JavaScriptCatalog.as_view(packages=["redemption"]))
)

urlpatterns = [
    path("api/v1/ping/", health.PingView.as_view(), name="api-ping"),
    path("api/v1/", include("redemption.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    # Last of /api/: every other address there answers the API's JSON 404.
    re_path(r"^api/", api_errors.unmatched, name="api-unmatched"),
    path("healthz", health.healthz, name="healthz"),
    path("s/<str:token>/", staff_views.signin_link_view, name="signin-link"),
    path("s/<str:token>/qr.svg", staff_views.signin_qr_svg, name="signin-link-qr"),
    path("metrics", metrics.metrics, name="metrics"),
    path("jsi18n/", catalog, name="javascript-catalog"),
    path("staff/", include((pages.staff, "staff"))),
    path("", include(pages.site)),
    path("admin/", admin.site.urls),
]
