"""Checks after entry: the risk rules a seller switches on, one per kind.

Each rule is a pure function of the order (``OrderFacts``) and of what the seller's
earlier orders say about it (``History``), so it can be tested without a database.
``risk_history_get`` gathers that history for all enabled rules in one aggregate query;
``risk_check`` ties the two together for ``order_place``. A rule that fires returns a
``RiskHit``; the order is then held with every hit as a reason.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Q, Value
from django.db.models.functions import Replace, Upper
from django.utils import timezone

from orders.models import Order, OrderLine, RiskRuleKind
from orders.models.order import CUSTOMER_EMAIL_KEY, SHIP_POSTAL_CODE_KEY
from orders.status import Lifecycle

DEFAULT_RISK_LEVELS = ("elevated", "highest")


class InvalidRuleParams(ValueError):
    """A risk rule's parameters cannot be used; the message says how to fix them."""


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """An enabled rule with its cleaned parameters (see ``risk_params_clean``)."""

    kind: str
    params: Mapping = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """The order under review, as the rules see it."""

    email: str
    ship_line1: str
    ship_postal_code: str
    ship_country: str
    currency: str
    total: Decimal
    lines: tuple[tuple[str, int], ...]
    billing_country: str | None = None
    payment_risk_level: str = ""
    payment_risk_score: int | None = None


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Which facts about earlier orders the enabled rules need, and over what windows."""

    email_window: timedelta | None = None
    address_window: timedelta | None = None
    duplicate_window: timedelta | None = None
    first_order: bool = False

    @property
    def needs_email(self) -> bool:
        return bool(self.email_window or self.duplicate_window or self.first_order)

    @property
    def is_empty(self) -> bool:
        return not (self.needs_email or self.address_window)


@dataclass(frozen=True, slots=True)
class History:
    """What the seller's earlier orders say about this one. A fact no rule asked for
    keeps its default."""

    email_orders: int = 0  # from the same email, within velocity_email's window
    address_orders: int = 0  # to the same address, within velocity_address's window
    email_ordered_before: bool = False  # the email has a non-cancelled earlier order
    duplicate_of: int | None = None  # number of a recent order with the same email, lines and total


@dataclass(frozen=True, slots=True)
class RiskHit:
    kind: str
    reason: str
    details: dict = field(default_factory=dict)


def normalized(text: str) -> str:
    """Case and spaces ignored, as the address comparison does in SQL."""
    return text.replace(" ", "").upper()


# --- Parameters -------------------------------------------------------------------


def _only(params: Mapping, allowed: set[str]) -> None:
    if unknown := sorted(set(params) - allowed):
        expected = ", ".join(sorted(allowed)) or "none"
        raise InvalidRuleParams(f"Unknown parameter(s) {', '.join(unknown)}; expected: {expected}.")


def _whole_number(params: Mapping, name: str, default: int, *, minimum: int = 1) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRuleParams(f"{name} must be a whole number of at least {minimum}.")
    return value


def _velocity_params(params: Mapping) -> dict:
    _only(params, {"max_orders", "window_minutes"})
    return {
        "max_orders": _whole_number(params, "max_orders", 5),
        "window_minutes": _whole_number(params, "window_minutes", 60),
    }


def _duplicate_params(params: Mapping) -> dict:
    _only(params, {"window_minutes"})
    return {"window_minutes": _whole_number(params, "window_minutes", 10)}


def _no_params(params: Mapping) -> dict:
    _only(params, set())
    return {}


def _first_order_params(params: Mapping) -> dict:
    if not params:
        raise InvalidRuleParams('Give the largest unreviewed first order per currency, e.g. {"USD": "500.00"}.')
    cleaned = {}
    for currency, amount in params.items():
        if currency not in settings.WAYBILL_CURRENCIES:
            raise InvalidRuleParams(f"{currency!r} is not a supported currency.")
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            value = None
        if isinstance(amount, bool | float) or value is None or not value.is_finite() or value < 0:
            raise InvalidRuleParams(f'The {currency} amount must be a decimal string such as "500.00".')
        cleaned[currency] = str(value)
    return cleaned


def _payment_risk_params(params: Mapping) -> dict:
    _only(params, {"levels", "min_score"})
    levels = params.get("levels", list(DEFAULT_RISK_LEVELS))
    if not isinstance(levels, list) or not levels or not all(isinstance(v, str) and v.strip() for v in levels):
        raise InvalidRuleParams('levels must be a non-empty list of risk levels, e.g. ["elevated", "highest"].')
    cleaned = {"levels": sorted({level.strip().lower() for level in levels})}
    if params.get("min_score") is not None:
        score = _whole_number(params, "min_score", 0, minimum=0)
        if score > 100:
            raise InvalidRuleParams("min_score must be between 0 and 100.")
        cleaned["min_score"] = score
    return cleaned


PARAMS_CLEANERS: dict[str, Callable[[Mapping], dict]] = {
    RiskRuleKind.VELOCITY_EMAIL: _velocity_params,
    RiskRuleKind.VELOCITY_ADDRESS: _velocity_params,
    RiskRuleKind.COUNTRY_MISMATCH: _no_params,
    RiskRuleKind.FIRST_ORDER_VALUE: _first_order_params,
    RiskRuleKind.DUPLICATE_ORDER: _duplicate_params,
    RiskRuleKind.PAYMENT_RISK: _payment_risk_params,
}


def risk_params_clean(*, kind: str, params: object) -> dict:
    """The rule's parameters with defaults filled in, or InvalidRuleParams."""
    if kind not in PARAMS_CLEANERS:
        raise InvalidRuleParams(f"{kind!r} is not a risk rule.")
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise InvalidRuleParams("Parameters must be a JSON object.")
    return PARAMS_CLEANERS[kind](params)


# --- Rules ------------------------------------------------------------------------


def velocity_email(order: OrderFacts, history: History, params: Mapping) -> RiskHit | None:
    if not order.email or history.email_orders < params["max_orders"]:
        return None
    return RiskHit(
        RiskRuleKind.VELOCITY_EMAIL,
        f"{history.email_orders} earlier orders from this email in {params['window_minutes']} minutes "
        f"(at most {params['max_orders']} pass unreviewed)",
        {"email": order.email, "earlier_orders": history.email_orders, **params},
    )


def velocity_address(order: OrderFacts, history: History, params: Mapping) -> RiskHit | None:
    if history.address_orders < params["max_orders"]:
        return None
    return RiskHit(
        RiskRuleKind.VELOCITY_ADDRESS,
        f"{history.address_orders} earlier orders to this address in {params['window_minutes']} minutes "
        f"(at most {params['max_orders']} pass unreviewed)",
        {"earlier_orders": history.address_orders, **params},
    )


def country_mismatch(order: OrderFacts, history: History, params: Mapping) -> RiskHit | None:
    if order.billing_country is None or order.billing_country == order.ship_country:
        return None
    return RiskHit(
        RiskRuleKind.COUNTRY_MISMATCH,
        f"Billed to {order.billing_country}, shipped to {order.ship_country}",
        {"billing_country": order.billing_country, "shipping_country": order.ship_country},
    )


def first_order_value(order: OrderFacts, history: History, params: Mapping) -> RiskHit | None:
    """Without an email the customer cannot be recognised, so the order counts as a
    first order."""
    ceiling = params.get(order.currency)
    if ceiling is None or history.email_ordered_before or order.total <= Decimal(ceiling):
        return None
    return RiskHit(
        RiskRuleKind.FIRST_ORDER_VALUE,
        f"First order of {order.total} {order.currency} is above {ceiling} {order.currency}",
        {"total": str(order.total), "currency": order.currency, "limit": ceiling},
    )


def duplicate_order(order: OrderFacts, history: History, params: Mapping) -> RiskHit | None:
    if history.duplicate_of is None:
        return None
    return RiskHit(
        RiskRuleKind.DUPLICATE_ORDER,
        f"Same customer, lines and total as order #{history.duplicate_of} within {params['window_minutes']} minutes",
        {"duplicate_of": history.duplicate_of, **params},
    )


def payment_risk(order: OrderFacts, history: History, params: Mapping) -> RiskHit | None:
    level = order.payment_risk_level.lower()
    score = order.payment_risk_score
    min_score = params.get("min_score")
    if level not in params["levels"] and (min_score is None or score is None or score < min_score):
        return None
    shown = f"{level or 'unrated'}" + (f", score {score}" if score is not None else "")
    return RiskHit(
        RiskRuleKind.PAYMENT_RISK,
        f"Payment processor rates the payment risk {shown}",
        {"level": level, "score": score},
    )


RULES: dict[str, Callable[[OrderFacts, History, Mapping], RiskHit | None]] = {
    RiskRuleKind.VELOCITY_EMAIL: velocity_email,
    RiskRuleKind.VELOCITY_ADDRESS: velocity_address,
    RiskRuleKind.COUNTRY_MISMATCH: country_mismatch,
    RiskRuleKind.FIRST_ORDER_VALUE: first_order_value,
    RiskRuleKind.DUPLICATE_ORDER: duplicate_order,
    RiskRuleKind.PAYMENT_RISK: payment_risk,
}


def risk_evaluate(*, order: OrderFacts, history: History, rules: Iterable[RuleConfig]) -> list[RiskHit]:
    """Every hit of the enabled rules, in rule order."""
    return [hit for rule in rules if (hit := RULES[rule.kind](order, history, rule.params)) is not None]


def history_query_for(rules: Sequence[RuleConfig]) -> HistoryQuery:
    """The facts the rules need; an empty query when none needs any."""
    windows = {
        rule.kind: timedelta(minutes=rule.params["window_minutes"]) for rule in rules if "window_minutes" in rule.params
    }
    return HistoryQuery(
        email_window=windows.get(RiskRuleKind.VELOCITY_EMAIL),
        address_window=windows.get(RiskRuleKind.VELOCITY_ADDRESS),
        duplicate_window=windows.get(RiskRuleKind.DUPLICATE_ORDER),
        first_order=any(rule.kind == RiskRuleKind.FIRST_ORDER_VALUE for rule in rules),
    )


# --- Reading history --------------------------------------------------------------


def _same_lines(lines: Sequence[tuple[str, int]]):
    """Orders whose lines are these (SKU and quantity), no more and no fewer."""
    pairs = Q()
    for sku, quantity in set(lines):
        pairs |= Q(sku=sku, quantity=quantity)
    return (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(line_count=Count("pk"), matching=Count("pk", filter=pairs), skus=Count("sku", distinct=True))
        .filter(line_count=len(lines), matching=len(lines), skus=len({sku for sku, _ in lines}))
    )


def risk_history_get(*, seller_id: int, order: OrderFacts, query: HistoryQuery, now: datetime) -> History:
    """One aggregate query over the seller's orders from the same email or to the same
    address (both indexed per seller, ignoring case). Call it before inserting the
    order under review: every order it finds is an earlier one."""
    branches = Q()
    aggregates = {}
    not_cancelled = ~Q(lifecycle=Lifecycle.CANCELLED)
    if query.needs_email and order.email:
        same_email = Q(email_key=order.email.upper())
        windows = [w for w in (query.email_window, query.duplicate_window) if w]
        branches |= same_email if query.first_order else same_email & Q(created_at__gte=now - max(windows))
        if query.email_window:
            aggregates["email_orders"] = Count("pk", filter=same_email & Q(created_at__gte=now - query.email_window))
        if query.first_order:
            aggregates["email_ordered_before"] = Count("pk", filter=same_email & not_cancelled)
        if query.duplicate_window:
            duplicate = (
                same_email
                & not_cancelled
                & Q(created_at__gte=now - query.duplicate_window, currency=order.currency, total=order.total)
                & Q(Exists(_same_lines(order.lines)))
            )
            aggregates["duplicate_of"] = Max("number", filter=duplicate)
    if query.address_window:
        same_address = Q(
            postal_key=normalized(order.ship_postal_code),
            line1_key=normalized(order.ship_line1),
            ship_country=order.ship_country,
            created_at__gte=now - query.address_window,
        )
        branches |= same_address
        aggregates["address_orders"] = Count("pk", filter=same_address)
    if not aggregates:
        return History()
    row = (
        Order.objects.filter(seller_id=seller_id)
        .alias(
            email_key=CUSTOMER_EMAIL_KEY,
            postal_key=SHIP_POSTAL_CODE_KEY,
            line1_key=Upper(Replace("ship_line1", Value(" "), Value(""))),
        )
        .filter(branches)
        .aggregate(**aggregates)
    )
    return History(
        email_orders=row.get("email_orders") or 0,
        address_orders=row.get("address_orders") or 0,
        email_ordered_before=bool(row.get("email_ordered_before")),
        duplicate_of=row.get("duplicate_of"),
    )


def order_facts(order: Order, lines: Iterable[OrderLine]) -> OrderFacts:
    """The facts of an order built but not yet saved, as ``order_place`` has it."""
    billing = order.billing_address or None
    return OrderFacts(
        email=order.customer_email,
        ship_line1=order.ship_line1,
        ship_postal_code=order.ship_postal_code,
        ship_country=order.ship_country,
        currency=str(order.total.currency),
        total=order.total.amount,
        lines=tuple((line.sku, line.quantity) for line in lines),
        billing_country=billing["country"] if billing else None,
        payment_risk_level=order.payment_risk_level,
        payment_risk_score=order.payment_risk_score,
    )


def risk_check(
    *, seller_id: int, order: Order, lines: Sequence[OrderLine], rules: Sequence[RuleConfig]
) -> list[RiskHit]:
    """Run the seller's enabled rules on an order about to be inserted. No rules, no
    query; rules that need no history (country mismatch, payment risk), no query."""
    if not rules:
        return []
    facts = order_facts(order, lines)
    query = history_query_for(rules)
    history = (
        History()
        if query.is_empty
        else risk_history_get(seller_id=seller_id, order=facts, query=query, now=timezone.now())
    )
    return risk_evaluate(order=facts, history=history, rules=rules)
