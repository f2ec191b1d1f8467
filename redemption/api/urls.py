"""/api/v1/: every operation of the public contract."""

from django.urls import path

from redemption.api import backoffice, counter, issuing, offline, products, reports, vouchers, webhooks
from redemption import fastpath
from redemption.api.threads import run_in_pool
from staff import api as staff_api

urlpatterns = [
    path("auth/token/", staff_api.TokenView.as_view(), name="api-token"),
    path("check/", run_in_pool(counter.CheckView.as_view(), fastpath.check, "redeemable"), name="api-check"),
    path("redeem/", run_in_pool(counter.RedeemView.as_view(), fastpath.redeem, "redeemed"), name="api-redeem"),
    path("redeem/order/", counter.RedeemOrderView.as_view(), name="api-redeem-order"),
    path("redemptions/", reports.RedemptionListView.as_view(), name="api-redemptions"),
    path("redemptions/export.csv", reports.ExportView.as_view(), name="api-redemptions-export"),
    path("redemptions/mine/", counter.MineView.as_view(), name="api-redemptions-mine"),
    path("redemptions/<id:pk>/reverse/", counter.ReverseView.as_view(), name="api-reverse"),
    path("stats/staff/", reports.StaffStatsView.as_view(), name="api-stats-staff"),
    path("stats/stores/", reports.StoreStatsView.as_view(), name="api-stats-stores"),
    path("stats/products/", reports.ProductStatsView.as_view(), name="api-stats-products"),
    path("stores/", staff_api.StoreListView.as_view(), name="api-stores"),
    path("stores/<id:pk>/", staff_api.StoreDetailView.as_view(), name="api-store-detail"),
    path("staff/", staff_api.StaffListView.as_view(), name="api-staff"),
    path("staff/<id:pk>/", staff_api.StaffDetailView.as_view(), name="api-staff-detail"),
    path("staff/<id:pk>/signin-qr/", staff_api.SigninQrView.as_view(), name="api-staff-signin-qr"),
    path("devices/", staff_api.DeviceListView.as_view(), name="api-devices"),
    path("devices/<id:pk>/sign-out/", staff_api.DeviceSignOutView.as_view(), name="api-device-sign-out"),
    path("products/", products.ProductListView.as_view(), name="api-products"),
    path("vouchers/", vouchers.VoucherListView.as_view(), name="api-vouchers"),
    path("vouchers/lookup/", vouchers.VoucherLookupView.as_view(), name="api-vouchers-lookup"),
    path("vouchers/import/", vouchers.VoucherImportView.as_view(), name="api-vouchers-import"),
    path("vouchers/issue-file/", issuing.IssueFileView.as_view(), name="api-vouchers-issue-file"),
    path("vouchers/issue-file/<id:pk>/delivery.csv", issuing.DeliveryCsvView.as_view(), name="api-delivery-csv"),
    path("vouchers/issue-file/<id:pk>/delivery.xlsx", issuing.DeliveryXlsxView.as_view(), name="api-delivery-xlsx"),
    *[
        path(f"vouchers/<id:pk>/{action}/", vouchers.VoucherActionView.as_view(action=action), name=f"api-voucher-{action}")
        for action in ("void", "freeze", "unfreeze")
    ],
    path("vouchers/<id:pk>/reissue/", vouchers.VoucherReissueView.as_view(), name="api-voucher-reissue"),
    path("vouchers/<id:pk>/qr.svg", vouchers.VoucherSvgView.as_view(), name="api-voucher-qr-svg"),
    path("vouchers/<id:pk>/qr.png", vouchers.VoucherPngView.as_view(), name="api-voucher-qr-png"),
    path("offline/snapshot/", offline.SnapshotView.as_view(), name="api-offline-snapshot"),
    path("offline/upload/", offline.UploadView.as_view(), name="api-offline-upload"),
    path("offline/conflicts/", offline.ConflictListView.as_view(), name="api-offline-conflicts"),
    path("offline/conflicts/<id:pk>/settle/", offline.ConflictSettleView.as_view(), name="api-offline-settle"),
    path("offline/devices/", offline.DeviceListView.as_view(), name="api-offline-devices"),
    path("orders/", backoffice.OrderListView.as_view(), name="api-orders"),
    path("orders/export.csv", backoffice.OrderExportView.as_view(), name="api-orders-export"),
    path("stats/daily/", backoffice.DailyStatementView.as_view(), name="api-stats-daily"),
    path("stats/daily.csv", backoffice.DailyStatementCsvView.as_view(), name="api-stats-daily-csv"),
    path("vouchers/<id:pk>/history/", backoffice.VoucherHistoryView.as_view(), name="api-voucher-history"),
    path("vouchers/<id:pk>/reveal/", backoffice.VoucherRevealView.as_view(), name="api-voucher-reveal"),
    path("webhooks/", webhooks.WebhookListView.as_view(), name="api-webhooks"),
    path("webhooks/<id:pk>/", webhooks.WebhookDetailView.as_view(), name="api-webhook-detail"),
]
