import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from redemption import codes, services
from redemption.models import Product, Voucher
from staff.models import Membership, Merchant, Role, Store
from staff.services import merchant_create, staff_create

PASSWORD = "demo-2026"
LOGINS = [
    ("demo-owner", Role.OWNER, "王老板"),
    ("demo-manager", Role.MANAGER, "李店长"),
    ("demo-clerk", Role.CLERK, "小张"),
    ("demo-clerk2", Role.CLERK, "小刘"),
]


class Command(BaseCommand):
    help = "Create a demo merchant with stores, staff of every role, products and vouchers, and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="only when the database has no merchant yet")

    def handle(self, *args, if_empty=False, **options):
        owner = Membership.objects.filter(user__username="demo-owner").select_related("merchant").first()
        if owner is None:
            if if_empty and Merchant.objects.exists():
                return
            owner = self.create()
        self.report(owner)

    @transaction.atomic
    def create(self):
        owner = merchant_create(
            name="鲜味小馆", owner_username="demo-owner", owner_password=PASSWORD, owner_display_name="王老板"
        )
        merchant = owner.merchant
        renmin = Store.objects.create(merchant=merchant, name="人民路店", address="人民路 88 号")
        binjiang = Store.objects.create(merchant=merchant, name="滨江店", address="滨江大道 16 号")
        staff_create(merchant=merchant, username="demo-manager", password=PASSWORD, display_name="李店长",
                     role=Role.MANAGER, stores=[renmin, binjiang])
        staff_create(merchant=merchant, username="demo-clerk", password=PASSWORD, display_name="小张", stores=[renmin])
        staff_create(merchant=merchant, username="demo-clerk2", password=PASSWORD, display_name="小刘", stores=[binjiang])

        meal = Product.objects.create(
            merchant=merchant, name="双人套餐券", face_value=Decimal("98.00"), valid_days=30,
            instructions="到店出示券码，由店员核销。每桌限用一张。",
        )
        wash = Product.objects.create(
            merchant=merchant, name="精洗 5 次卡", face_value=Decimal("150.00"), uses_per_voucher=5, valid_days=180,
            instructions="每次洗车核销一次，共 5 次。每天限用 2 次。", max_uses_per_day=2,
        )
        tea = Product.objects.create(
            merchant=merchant, name="下午茶券（仅滨江店）", face_value=Decimal("39.90"), valid_days=14,
            instructions="仅限滨江店使用。",
        )
        tea.stores.set([binjiang])
        live = Product.objects.create(
            merchant=merchant, name="储值会员卡", face_value=Decimal("500.00"), uses_per_voucher=10,
            require_live_qr=True, instructions="请打开券页面出示动态二维码，截图无效。",
        )
        for n, product in enumerate([meal, meal, meal, wash, wash, tea, live], start=1):
            services.voucher_issue(product=product, order_no=f"PDD-2611{n:02d}-{n * 7919:08d}", channel="pdd",
                                   buyer_phone=f"1380013{n:04d}")
        expired, _ = services.voucher_issue(product=meal, order_no="TB-OLD-0001", channel="taobao")
        yesterday = timezone.now() - dt.timedelta(days=1)
        Voucher.objects.filter(pk=expired[0].pk).update(valid_until=yesterday)
        voided, _ = services.voucher_issue(product=meal, order_no="YZ-REFUND-0001", channel="youzan")
        services.voucher_void(member=owner, voucher_id=voided[0].pk, reason="退款")
        # A family's order of three meals: scan any one of them and redeem all three in one tap.
        services.voucher_issue(product=meal, order_no="PDD-261130-00031415", channel="pdd", quantity=3,
                               buyer_phone="13800138000")
        # 人民路店 keeps serving through a Wi-Fi outage, within the caps.
        Store.objects.filter(pk=renmin.pk).update(offline_enabled=True, offline_max_redemptions=30,
                                                  offline_max_value=Decimal("300.00"))
        return owner

    def report(self, owner):
        merchant = owner.merchant
        self.stdout.write(f"\nDemo merchant: {merchant.name}   password for every login: {PASSWORD}\n")
        for username, role, name in LOGINS:
            self.stdout.write(f"  {username:<14} {role:<8} {name}")
        self.stdout.write("\nScanner: http://127.0.0.1:8000/staff/   Admin: http://127.0.0.1:8000/admin/")
        self.stdout.write("Codes to try (demo data only):")
        for voucher in Voucher.objects.filter(merchant=merchant).select_related("product").order_by("id"):
            self.stdout.write(f"  {codes.group(voucher.code)}  {voucher.product.name}  [{voucher.status()}]")
        self.stdout.write("")
