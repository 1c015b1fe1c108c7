# Four foreign keys lose their own index: each is the first column of a unique index
# that serves the same lookups (a line's order, an allocation's line, an event's order,
# an idempotency record's seller). Order capture writes about ten index entries fewer
# per order. As in 0006, only the indexes change, and on PostgreSQL without blocking
# writes; Django's AlterField would drop and re-add the foreign keys instead.

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import index_statements_run

# Django's names for the foreign keys' indexes (the same on PostgreSQL and SQLite).
COVERED = {
    "orders_allocation_line_id_d37a8293": ("orders_allocation", "line_id"),
    "orders_idempotencyrecord_seller_id_759cbf6a": ("orders_idempotencyrecord", "seller_id"),
    "orders_orderevent_order_id_b26297f3": ("orders_orderevent", "order_id"),
    "orders_orderline_order_id_17f8f3ef": ("orders_orderline", "order_id"),
}


def forwards(apps, schema_editor):
    index_statements_run(schema_editor, *(f'DROP INDEX {{concurrently}}IF EXISTS "{name}"' for name in COVERED))


def backwards(apps, schema_editor):
    index_statements_run(
        schema_editor,
        *(
            f'CREATE INDEX {{concurrently}}IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
            for name, (table, column) in COVERED.items()
        ),
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0006_order_indexes_seller_placed"),
        ("sellers", "0004_seller_tax_and_invoicing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="allocation",
                    name="line",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="allocations",
                        to="orders.orderline",
                    ),
                ),
                migrations.AlterField(
                    model_name="idempotencyrecord",
                    name="seller",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="sellers.seller",
                    ),
                ),
                migrations.AlterField(
                    model_name="orderevent",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="orders.order",
                    ),
                ),
                migrations.AlterField(
                    model_name="orderline",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="orders.order",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
