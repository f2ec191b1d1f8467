"""Daily totals (one row per merchant-local day, store, staff member and channel) and each
voucher's first standing use, so the stats stop reading every redemption. Both are filled here
from the redemptions already made; from then on the redeem paths and reversals keep them."""

import zoneinfo

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery

TOTAL_COLUMNS = ("merchant_id", "day", "store_id", "staff_id", "channel", "redemptions", "uses", "value",
                 "reversed", "reversed_uses", "reversed_value", "first_at", "last_at")

# PostgreSQL adds them up itself; the day is the merchant's own, as the redeem paths reckon it.
DAILY_TOTALS_SQL = """
    INSERT INTO {daily} ({columns})
    SELECT r.merchant_id, (r.at AT TIME ZONE m.time_zone)::date, r.store_id, r.staff_id, v.channel,
           count(*), sum(r.uses), sum(r.value), count(r.reversed_at),
           coalesce(sum(r.uses) FILTER (WHERE r.reversed_at IS NOT NULL), 0),
           coalesce(sum(r.value) FILTER (WHERE r.reversed_at IS NOT NULL), 0),
           min(r.at) FILTER (WHERE r.reversed_at IS NULL), max(r.at) FILTER (WHERE r.reversed_at IS NULL)
    FROM {redemption} r JOIN {voucher} v ON v.id = r.voucher_id JOIN {merchant} m ON m.id = r.merchant_id
    GROUP BY 1, 2, 3, 4, 5
"""


def fill(apps, schema_editor):
    """Every voucher's first standing use and every day's totals, from the redemptions."""
    Redemption, Voucher = apps.get_model("redemption", "Redemption"), apps.get_model("redemption", "Voucher")
    standing = Redemption.objects.filter(voucher=OuterRef("pk"), reversed_at=None)
    Voucher.objects.filter(Exists(standing)).update(first_used_at=Subquery(standing.order_by("at").values("at")[:1]))
    if schema_editor.connection.vendor == "postgresql":
        _daily_totals_in_sql(apps, schema_editor)
    else:
        _daily_totals_in_python(apps)


def _daily_totals_in_sql(apps, schema_editor):
    table = {name: apps.get_model(app, name)._meta.db_table
             for app, name in (("redemption", "DailyTotal"), ("redemption", "Redemption"),
                               ("redemption", "Voucher"), ("staff", "Merchant"))}
    schema_editor.execute(DAILY_TOTALS_SQL.format(
        daily=table["DailyTotal"], redemption=table["Redemption"], voucher=table["Voucher"],
        merchant=table["Merchant"], columns=", ".join(TOTAL_COLUMNS),
    ))


def _daily_totals_in_python(apps):
    Redemption, DailyTotal = apps.get_model("redemption", "Redemption"), apps.get_model("redemption", "DailyTotal")
    zones = {pk: zoneinfo.ZoneInfo(name) for pk, name in apps.get_model("staff", "Merchant").objects.values_list("pk", "time_zone")}
    totals = {}
    rows = Redemption.objects.values_list(
        "merchant_id", "at", "store_id", "staff_id", "voucher__channel", "uses", "value", "reversed_at"
    )
    for merchant_id, at, store_id, staff_id, channel, uses, value, reversed_at in rows.iterator(chunk_size=5000):
        key = (merchant_id, at.astimezone(zones[merchant_id]).date(), store_id, staff_id, channel)
        total = totals.get(key)
        if total is None:
            total = totals[key] = DailyTotal(**dict(zip(TOTAL_COLUMNS, key)))
        total.redemptions += 1
        total.uses += uses
        total.value += value
        if reversed_at is not None:
            total.reversed += 1
            total.reversed_uses += uses
            total.reversed_value += value
            continue
        total.first_at = min(total.first_at or at, at)
        total.last_at = max(total.last_at or at, at)
    DailyTotal.objects.bulk_create(totals.values(), batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('redemption', '0007_merchant_store_to_staff'),
        ('staff', '0003_merchant_store_tables'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('channel', models.CharField(choices=[('manual', 'Manual'), ('api', 'API'), ('pdd', 'Pinduoduo'), ('taobao', 'Taobao'), ('youzan', 'Youzan'), ('douyin', 'Douyin'), ('meituan', 'Meituan'), ('other', 'Other')], max_length=16)),
                ('redemptions', models.PositiveIntegerField(default=0)),
                ('uses', models.PositiveIntegerField(default=0)),
                ('value', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('reversed', models.PositiveIntegerField(default=0)),
                ('reversed_uses', models.PositiveIntegerField(default=0)),
                ('reversed_value', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('first_at', models.DateTimeField(null=True)),
                ('last_at', models.DateTimeField(null=True)),
            ],
        ),
        migrations.AddField(
            model_name='voucher',
            name='first_used_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='first used'),
        ),
        migrations.AddIndex(
            model_name='voucher',
            index=models.Index(fields=['merchant', 'created_at'], name='voucher_issued'),
        ),
        migrations.AddIndex(
            model_name='attempt',
            index=models.Index(condition=models.Q(('result__in', ('redeemed', 'redeemable')), _negated=True), fields=['merchant', 'at', 'staff', 'store'], name='attempt_refused'),
        ),
        migrations.AddField(
            model_name='dailytotal',
            name='merchant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='staff.merchant'),
        ),
        migrations.AddField(
            model_name='dailytotal',
            name='staff',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='staff.membership'),
        ),
        migrations.AddField(
            model_name='dailytotal',
            name='store',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='staff.store'),
        ),
        migrations.AddConstraint(
            model_name='dailytotal',
            constraint=models.UniqueConstraint(fields=('merchant', 'day', 'store', 'staff', 'channel'), name='daily_total_key'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
