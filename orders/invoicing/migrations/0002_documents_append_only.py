from django.db import migrations

from core.migration_ops import append_only


class Migration(migrations.Migration):
    """Issued documents never change: PostgreSQL refuses UPDATE and DELETE on them."""

    dependencies = [("invoicing", "0001_initial")]
    operations = [
        append_only("invoicing_invoice"),
        append_only("invoicing_invoiceline"),
        append_only("invoicing_invoicetaxline"),
        append_only("invoicing_invoicepdf"),
        append_only("invoicing_creditnote"),
        append_only("invoicing_creditnoteline"),
        append_only("invoicing_creditnotetaxline"),
        append_only("invoicing_creditnotepdf"),
    ]
