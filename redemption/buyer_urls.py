"""The buyer's voucher page and what it polls; config/urls.py includes these at the site root."""

from django.urls import path

from redemption import buyer

urlpatterns = [
    path("v/<str:token>/", buyer.voucher_page, name="buyer-voucher"),
    path("v/<str:token>/live.json", buyer.live_payload, name="buyer-live"),
    path("v/<str:token>/status.json", buyer.voucher_status, name="buyer-status"),
]
