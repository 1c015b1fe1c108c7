from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    label = "shipping"
    verbose_name = "Shipping"

    def ready(self):
        from core.outbox import register_handler
        from orders.demo.seed import demo_step_register
        from shipping.demo import demo_carriers_create
        from shipping.handlers import shipments_sync_for_event
        from shipping.notifications import shipment_shipped_email

        register_handler("shipment.shipped", shipment_shipped_email, name="shipping.shipped_email")
        # The order's pending shipments follow its allocations (placement, release from
        # a hold, re-routing, backorders filled, cancellation).
        for topic in ("order.created", "order.released", "order.updated", "order.cancelled"):
            register_handler(topic, shipments_sync_for_event, name="shipping.shipments_sync")
        demo_step_register("shipping.carriers", demo_carriers_create)
