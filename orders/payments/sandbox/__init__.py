from orders.payments.sandbox.server import Delivery, Fault, StripeSandbox

__all__ = ["Delivery", "Fault", "StripeSandbox"]
