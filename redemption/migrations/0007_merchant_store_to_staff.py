"""The other half of staff 0002: the redemption models point at staff's Merchant and Store, and
the old model states go. Nothing in the database changes but the content types' app label, so
admin history and permissions follow the models."""

import django.db.models.deletion
from django.db import migrations, models


def move_content_types(apps, schema_editor, src="redemption", dst="staff"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("merchant", "store"):
        if not ContentType.objects.filter(app_label=dst, model=model).exists():
            ContentType.objects.filter(app_label=src, model=model).update(app_label=dst)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, src="staff", dst="redemption")


def merchant_fk(related_name, **kwargs):
    return models.ForeignKey(
        on_delete=django.db.models.deletion.CASCADE, related_name=related_name, to="staff.merchant", **kwargs
    )


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("redemption", "0006_redemption_value"),
        ("staff", "0002_merchant_store"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("product", "merchant", merchant_fk("products", verbose_name="merchant")),
                migrations.AlterField("voucher", "merchant", merchant_fk("vouchers", verbose_name="merchant")),
                migrations.AlterField("redemption", "merchant", merchant_fk("redemptions")),
                migrations.AlterField("attempt", "merchant", merchant_fk("attempts")),
                migrations.AlterField("event", "merchant", merchant_fk("events")),
                migrations.AlterField("webhook", "merchant", merchant_fk("webhooks")),
                migrations.AlterField(
                    "product", "stores",
                    models.ManyToManyField(
                        blank=True, help_text="Leave empty to accept the product in every store.",
                        related_name="products", to="staff.store", verbose_name="stores",
                    ),
                ),
                migrations.AlterField(
                    "redemption", "store",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="redemptions",
                        to="staff.store", verbose_name="store",
                    ),
                ),
                migrations.AlterField(
                    "attempt", "store",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+", to="staff.store",
                    ),
                ),
                migrations.AlterField(
                    "event", "store",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+", to="staff.store",
                    ),
                ),
                migrations.DeleteModel("Store"),
                migrations.DeleteModel("Merchant"),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
