"""Merchant and Store move from the redemption app to staff, which owns who works where.

Only Django's idea of the models moves here: the tables stay as they are (renamed in 0003), so
every row, id and foreign key of an existing database carries over untouched.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("staff", "0001_initial"),
        ("redemption", "0006_redemption_value"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Merchant",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, verbose_name="name")),
                        ("time_zone", models.CharField(default=settings.TIME_ZONE, max_length=64, verbose_name="time zone")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                    ],
                    options={"verbose_name": "merchant", "verbose_name_plural": "merchants", "db_table": "redemption_merchant"},
                ),
                migrations.CreateModel(
                    name="Store",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, verbose_name="name")),
                        ("address", models.CharField(blank=True, max_length=200, verbose_name="address")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                        ("merchant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="stores", to="staff.merchant", verbose_name="merchant")),
                    ],
                    options={"verbose_name": "store", "verbose_name_plural": "stores", "ordering": ["id"], "db_table": "redemption_store"},
                ),
                migrations.AlterField(
                    model_name="membership",
                    name="merchant",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="members", to="staff.merchant", verbose_name="merchant"),
                ),
                migrations.AlterField(
                    model_name="membership",
                    name="stores",
                    field=models.ManyToManyField(blank=True, related_name="members", to="staff.store", verbose_name="stores"),
                ),
            ],
        ),
    ]
