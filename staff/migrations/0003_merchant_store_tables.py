"""The merchant and store tables take staff's name, now that staff owns them (a rename: rows,
ids and the foreign keys pointing at them stay)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("staff", "0002_merchant_store"),
        ("redemption", "0007_merchant_store_to_staff"),
    ]

    operations = [
        migrations.AlterModelTable(name="merchant", table=None),
        migrations.AlterModelTable(name="store", table=None),
    ]
