from django import template
from djmoney.money import Money

from core.money import round_money

register = template.Library()


@register.filter(name="money")
def money(value: Money) -> str:
    """``Money("20.0000", "USD")`` → ``"20.00 USD"``; JPY shows no decimals, KWD three."""
    rounded = round_money(value)
    return f"{rounded.amount} {rounded.currency}"
