from django.contrib import admin
from django.urls import include, path, register_converter
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from config import health
from redemption import api
from staff import dashboard



class IdConverter:
    """Database ids: at most 18 digits, so a giant number is a 404 rather than an overflow in the database."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")

api_v1 = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("check/", api.CheckView.as_view(), name="api-check"),
    path("redeem/", api.RedeemView.as_view(), name="api-redeem"),
    path("redemptions/", api.RedemptionListView.as_view(), name="api-redemptions"),
    path("redemptions/export.csv", api.ExportView.as_view(), name="api-redemptions-export"),
    path("redemptions/mine/", api.MineView.as_view(), name="api-redemptions-mine"),
    path("redemptions/<id:pk>/reverse/", api.ReverseView.as_view(), name="api-reverse"),
    path("stats/staff/", api.StatsView.as_view(by="staff"), name="api-stats-staff"),
    path("stats/stores/", api.StatsView.as_view(by="store"), name="api-stats-stores"),
    path("stats/products/", api.ProductStatsView.as_view(), name="api-stats-products"),
    path("stores/", api.StoreListView.as_view(), name="api-stores"),
    path("staff/", api.StaffListView.as_view(), name="api-staff"),
    path("staff/<id:pk>/", api.StaffDetailView.as_view(), name="api-staff-detail"),
    path("products/", api.ProductListView.as_view(), name="api-products"),
    path("vouchers/", api.VoucherListView.as_view(), name="api-vouchers"),
    path("vouchers/import/", api.VoucherImportView.as_view(), name="api-vouchers-import"),
    *[
        path(f"vouchers/<id:pk>/{action}/", api.VoucherActionView.as_view(action=action), name=f"api-voucher-{action}")
        for action in ("void", "freeze", "unfreeze", "reissue")
    ],
    path("vouchers/<id:pk>/qr.svg", api.VoucherQRView.as_view(), {"fmt": "svg"}, name="api-voucher-qr-svg"),
    path("vouchers/<id:pk>/qr.png", api.VoucherQRView.as_view(), {"fmt": "png"}, name="api-voucher-qr-png"),
    path("webhooks/", api.WebhookListView.as_view(), name="api-webhooks"),
    path("webhooks/<id:pk>/", api.WebhookDetailView.as_view(), name="api-webhook-detail"),
    path("ping/", api.PingView.as_view(), name="api-ping"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("staff/", include("staff.urls")),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("", include("redemption.buyer_urls")),
    path("admin/", admin.site.urls),
]
