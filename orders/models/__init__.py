from orders.models.checks import HeldOrder, HoldKind, HoldResolution, OrderHold, OrderPolicy, RiskRule, RiskRuleKind
from orders.models.event import EventType, OrderEvent
from orders.models.idempotency import IdempotencyRecord
from orders.models.order import API_CHANNELS, Allocation, Channel, DeliveryMethod, Order, OrderLine, order_money
from orders.models.webhook import WEBHOOK_TOPICS, DeliveryStatus, WebhookDelivery, WebhookSubscription

__all__ = [
    "API_CHANNELS",
    "Allocation",
    "Channel",
    "DeliveryMethod",
    "DeliveryStatus",
    "EventType",
    "HeldOrder",
    "HoldKind",
    "HoldResolution",
    "IdempotencyRecord",
    "Order",
    "OrderEvent",
    "OrderHold",
    "OrderLine",
    "OrderPolicy",
    "RiskRule",
    "RiskRuleKind",
    "WEBHOOK_TOPICS",
    "WebhookDelivery",
    "WebhookSubscription",
    "order_money",
]
