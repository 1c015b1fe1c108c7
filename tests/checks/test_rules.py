"""The risk rules as pure functions: each fires exactly past its boundary."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.models import RiskRuleKind
from orders.services.risk import (
    History,
    HistoryQuery,
    InvalidRuleParams,
    OrderFacts,
    RuleConfig,
    history_query_for,
    normalized,
    risk_evaluate,
    risk_params_clean,
)

ORDER = OrderFacts(
    email="ada@example.com",
    ship_line1="12 Analytical Way",
    ship_postal_code="02110",
    ship_country="US",
    currency="USD",
    total=Decimal("500.00"),
    lines=(("MUG", 2),),
)


def rule(kind, **params) -> RuleConfig:
    return RuleConfig(kind=kind, params=risk_params_clean(kind=kind, params=params))


def kinds(order: OrderFacts, history: History, *rules: RuleConfig) -> list[str]:
    return [hit.kind for hit in risk_evaluate(order=order, history=history, rules=rules)]


@pytest.mark.parametrize("kind", [RiskRuleKind.VELOCITY_EMAIL, RiskRuleKind.VELOCITY_ADDRESS])
def test_velocity_fires_once_the_earlier_orders_reach_max_orders(kind):
    velocity = rule(kind, max_orders=3, window_minutes=30)
    field = "email_orders" if kind == RiskRuleKind.VELOCITY_EMAIL else "address_orders"

    assert kinds(ORDER, History(**{field: 2}), velocity) == []
    assert kinds(ORDER, History(**{field: 3}), velocity) == [kind]


def test_velocity_by_email_needs_an_email():
    velocity = rule(RiskRuleKind.VELOCITY_EMAIL, max_orders=1)
    no_email = OrderFacts(**{**_fields(ORDER), "email": ""})

    assert kinds(no_email, History(email_orders=9), velocity) == []


def test_country_mismatch_fires_only_for_a_different_billing_country():
    mismatch = rule(RiskRuleKind.COUNTRY_MISMATCH)

    assert kinds(ORDER, History(), mismatch) == []
    assert kinds(_with(billing_country="US"), History(), mismatch) == []
    hits = risk_evaluate(order=_with(billing_country="DE"), history=History(), rules=[mismatch])
    assert [(h.kind, h.reason) for h in hits] == [(RiskRuleKind.COUNTRY_MISMATCH, "Billed to DE, shipped to US")]


def test_first_order_value_fires_above_the_currencys_limit_for_a_new_customer_only():
    first = rule(RiskRuleKind.FIRST_ORDER_VALUE, USD="500.00")

    assert kinds(_with(total=Decimal("500.00")), History(), first) == []
    assert kinds(_with(total=Decimal("500.01")), History(), first) == [RiskRuleKind.FIRST_ORDER_VALUE]
    assert kinds(_with(total=Decimal("500.01")), History(email_ordered_before=True), first) == []
    assert kinds(_with(total=Decimal("9999"), currency="EUR"), History(), first) == []


def test_duplicate_fires_when_an_earlier_order_matches():
    duplicate = rule(RiskRuleKind.DUPLICATE_ORDER, window_minutes=5)

    assert kinds(ORDER, History(), duplicate) == []
    hits = risk_evaluate(order=ORDER, history=History(duplicate_of=41), rules=[duplicate])
    assert [(h.kind, h.details["duplicate_of"]) for h in hits] == [(RiskRuleKind.DUPLICATE_ORDER, 41)]


def test_payment_risk_fires_on_the_configured_levels_or_score():
    default_levels = rule(RiskRuleKind.PAYMENT_RISK)
    by_score = rule(RiskRuleKind.PAYMENT_RISK, levels=["highest"], min_score=75)

    assert kinds(ORDER, History(), default_levels) == []  # no verdict
    assert kinds(_with(payment_risk_level="normal", payment_risk_score=20), History(), default_levels) == []
    assert kinds(_with(payment_risk_level="Elevated"), History(), default_levels) == [RiskRuleKind.PAYMENT_RISK]
    assert kinds(_with(payment_risk_level="highest"), History(), default_levels) == [RiskRuleKind.PAYMENT_RISK]
    assert kinds(_with(payment_risk_level="elevated", payment_risk_score=74), History(), by_score) == []
    assert kinds(_with(payment_risk_level="elevated", payment_risk_score=75), History(), by_score) == [
        RiskRuleKind.PAYMENT_RISK
    ]


def test_every_firing_rule_is_a_hit():
    rules = [rule(RiskRuleKind.COUNTRY_MISMATCH), rule(RiskRuleKind.VELOCITY_EMAIL, max_orders=1)]

    assert kinds(_with(billing_country="CA"), History(email_orders=1), *rules) == [
        RiskRuleKind.COUNTRY_MISMATCH,
        RiskRuleKind.VELOCITY_EMAIL,
    ]


def test_the_history_query_asks_only_for_what_the_rules_need():
    assert history_query_for([rule(RiskRuleKind.COUNTRY_MISMATCH), rule(RiskRuleKind.PAYMENT_RISK)]).is_empty
    query = history_query_for(
        [
            rule(RiskRuleKind.VELOCITY_ADDRESS, window_minutes=15),
            rule(RiskRuleKind.DUPLICATE_ORDER, window_minutes=3),
            rule(RiskRuleKind.FIRST_ORDER_VALUE, USD="1"),
        ]
    )
    assert query == HistoryQuery(
        address_window=timedelta(minutes=15), duplicate_window=timedelta(minutes=3), first_order=True
    )


def test_params_get_defaults_and_bad_params_say_what_is_wrong():
    assert risk_params_clean(kind=RiskRuleKind.VELOCITY_EMAIL, params={}) == {"max_orders": 5, "window_minutes": 60}
    assert risk_params_clean(kind=RiskRuleKind.PAYMENT_RISK, params=None) == {"levels": ["elevated", "highest"]}
    for kind, params, message in [
        (RiskRuleKind.VELOCITY_EMAIL, {"max_orders": 0}, "max_orders must be a whole number of at least 1."),
        (RiskRuleKind.VELOCITY_EMAIL, {"window": 5}, "Unknown parameter(s) window"),
        (RiskRuleKind.FIRST_ORDER_VALUE, {}, "Give the largest unreviewed first order per currency"),
        (RiskRuleKind.FIRST_ORDER_VALUE, {"USD": "lots"}, "The USD amount must be a decimal string"),
        (RiskRuleKind.FIRST_ORDER_VALUE, {"XXX": "1"}, "'XXX' is not a supported currency."),
        (RiskRuleKind.PAYMENT_RISK, {"levels": []}, "levels must be a non-empty list"),
        (RiskRuleKind.PAYMENT_RISK, {"min_score": 101}, "min_score must be between 0 and 100."),
        (RiskRuleKind.COUNTRY_MISMATCH, ["x"], "Parameters must be a JSON object."),
    ]:
        with pytest.raises(InvalidRuleParams) as error:
            risk_params_clean(kind=kind, params=params)
        assert str(error.value).startswith(message)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=8,
)
PARAM_NAMES = st.sampled_from(["max_orders", "window_minutes", "levels", "min_score", "USD", "EUR", "JPY"])
PARAMS = JSON | st.dictionaries(PARAM_NAMES, JSON, max_size=3)


@given(kind=st.sampled_from(RiskRuleKind.values), params=PARAMS)
def test_any_json_either_cleans_to_stable_params_or_is_refused_with_a_message(kind, params):
    try:
        cleaned = risk_params_clean(kind=kind, params=params)
    except InvalidRuleParams as error:
        assert str(error)
    else:
        assert risk_params_clean(kind=kind, params=cleaned) == cleaned
        # Cleaned params always run.
        risk_evaluate(order=ORDER, history=History(), rules=[RuleConfig(kind=kind, params=cleaned)])


@given(st.text(alphabet=" aAbB1", max_size=12))
def test_normalized_ignores_case_and_spaces(text):
    assert normalized(text) == normalized(text.lower().replace(" ", "  ")) == text.replace(" ", "").upper()


def _fields(order: OrderFacts) -> dict:
    return {name: getattr(order, name) for name in OrderFacts.__slots__}


def _with(**changes) -> OrderFacts:
    return OrderFacts(**{**_fields(ORDER), **changes})
