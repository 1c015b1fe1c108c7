from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "orders.invoicing"
    label = "invoicing"
    verbose_name = "Invoicing"

    def ready(self):
        from core.outbox import register_handler
        from orders.invoicing import handlers

        register_handler("shipment.shipped", handlers.on_shipment_shipped, name="invoicing.issue_on_shipment")
        register_handler("payment.captured", handlers.on_payment_captured, name="invoicing.issue_on_capture")
        register_handler("payment.refunded", handlers.on_payment_refunded, name="invoicing.credit_note_on_refund")
        register_handler("order.updated", handlers.on_line_cancelled, name="invoicing.credit_note_on_line_cancel")
        register_handler("order.cancelled", handlers.on_order_cancelled, name="invoicing.credit_note_on_cancel")
        register_handler("invoice.issued", handlers.on_invoice_issued, name="invoicing.invoice_pdf")
        register_handler("credit_note.issued", handlers.on_credit_note_issued, name="invoicing.credit_note_pdf")
