# The seller key's own index goes (every order index starts with the seller) and
# (seller, placed_at) comes for the sales report. Django's AlterField would drop and
# re-add the foreign key, re-checking every order under an exclusive lock; here only the
# index changes, and on PostgreSQL without blocking writes (CONCURRENTLY, outside a
# transaction), so orders keep coming in while a big table is indexed.

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import index_statements_run

# Django's name for the foreign key's index (the same on PostgreSQL and SQLite).
SELLER_INDEX = "orders_order_seller_id_9df17eb1"
PLACED_INDEX = "order_seller_placed_idx"


def forwards(apps, schema_editor):
    index_statements_run(
        schema_editor,
        f'CREATE INDEX {{concurrently}}IF NOT EXISTS "{PLACED_INDEX}" ON "orders_order" ("seller_id", "placed_at")',
        f'DROP INDEX {{concurrently}}IF EXISTS "{SELLER_INDEX}"',
    )


def backwards(apps, schema_editor):
    index_statements_run(
        schema_editor,
        f'CREATE INDEX {{concurrently}}IF NOT EXISTS "{SELLER_INDEX}" ON "orders_order" ("seller_id")',
        f'DROP INDEX {{concurrently}}IF EXISTS "{PLACED_INDEX}"',
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0005_tax_backorders_pickup_new_events"),
        ("sellers", "0004_seller_tax_and_invoicing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="seller",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="sellers.seller",
                    ),
                ),
                migrations.AddIndex(
                    model_name="order",
                    index=models.Index(fields=["seller", "placed_at"], name=PLACED_INDEX),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
