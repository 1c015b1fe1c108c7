"""A seller's configured checks, read in one query for every order placed: the order
policy (checked before entry) and the enabled risk rules (run after entry). Kept in the
process's cache for a few seconds (core.cache): orders.apps clears it when a policy or
a rule is saved."""

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import FilteredRelation, Q

from core.cache import ConfigCache
from orders.services.risk import InvalidRuleParams, RuleConfig, risk_params_clean
from orders.services.validation import PolicyLimits
from sellers.models import Seller

logger = logging.getLogger(__name__)

seller_checks_cache = ConfigCache("seller checks")
POLICY_FIELDS = ("id", "max_order_values", "max_line_quantity", "max_lines", "allowed_countries", "blocked_countries")


@dataclass(frozen=True, slots=True)
class SellerChecks:
    limits: PolicyLimits | None  # None: the seller has no policy
    rules: tuple[RuleConfig, ...]


def _limits(values: dict) -> PolicyLimits:
    max_order_values = {}
    for currency, amount in (values["max_order_values"] or {}).items():
        try:
            max_order_values[currency] = Decimal(str(amount))
        except InvalidOperation:
            # The admin refuses such a value; one written around it must not stop sales.
            logger.error("Order policy %s: ignoring max order value %r for %s", values["id"], amount, currency)
    return PolicyLimits(
        max_order_values=max_order_values,
        max_line_quantity=values["max_line_quantity"],
        max_lines=values["max_lines"],
        allowed_countries=frozenset(values["allowed_countries"] or ()),
        blocked_countries=frozenset(values["blocked_countries"] or ()),
    )


def seller_checks_get(*, seller_id: int) -> SellerChecks:
    return seller_checks_cache.get_or_read(seller_id, lambda: _seller_checks_read(seller_id))


def _seller_checks_read(seller_id: int) -> SellerChecks:
    """The seller row left-joined to its policy and its enabled rules: one row per rule,
    or one row with empty rule columns."""
    rows = (
        Seller.objects.filter(pk=seller_id)
        .annotate(enabled_rule=FilteredRelation("risk_rules", condition=Q(risk_rules__is_enabled=True)))
        .order_by("enabled_rule__kind")
        .values(*(f"order_policy__{name}" for name in POLICY_FIELDS), "enabled_rule__kind", "enabled_rule__params")
    )
    limits = None
    rules = []
    for row in rows:
        if limits is None and row["order_policy__id"] is not None:
            limits = _limits({name: row[f"order_policy__{name}"] for name in POLICY_FIELDS})
        kind = row["enabled_rule__kind"]
        if kind is None:
            continue
        try:
            rules.append(RuleConfig(kind=kind, params=risk_params_clean(kind=kind, params=row["enabled_rule__params"])))
        except InvalidRuleParams as exc:
            logger.error("Seller %s: risk rule %s skipped, its parameters are unusable: %s", seller_id, kind, exc)
    return SellerChecks(limits=limits, rules=tuple(rules))
