"""Querysets that lock. Always in primary-key order so two writers that need the same
rows take them in the same order and cannot deadlock; ``of=("self",)`` keeps joined
tables unlocked."""

from inventory.models import Stock


def stocks_for_update():
    return Stock.objects.select_for_update(of=("self",)).order_by("pk")
