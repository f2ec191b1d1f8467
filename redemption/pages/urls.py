from django.urls import path

from redemption.pages import buyer, dashboard, scanner
from staff import views as staff_views

# Under /staff/, in the "staff" namespace: the scanner and its login.
staff = [
    path("", scanner.scanner, name="scanner"),
    path("login/", staff_views.login_view, name="login"),
    path("logout/", staff_views.logout_view, name="logout"),
    path("manifest.webmanifest", scanner.manifest, name="manifest"),
    path("sw.js", scanner.service_worker, name="sw"),
]

# At the site root.
site = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/vouchers/<id:pk>/history/", dashboard.voucher_history, name="dashboard-voucher-history"),
    path("v/<str:token>/", buyer.voucher_page, name="buyer-voucher"),
    path("v/<str:token>/live.json", buyer.live_payload, name="buyer-live"),
    path("v/<str:token>/status.json", buyer.voucher_status, name="buyer-status"),
]
