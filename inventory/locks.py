"""Reads that lock. Always in primary-key order so two writers that need the same
rows take them in the same order and cannot deadlock; only the stock rows are locked,
never the warehouses joined to them."""

from collections.abc import Iterable

from django.db import connection

from core.fastsql import columns, instances_from_rows, placeholders
from inventory.models import Stock, Warehouse


def stocks_for_update():
    return Stock.objects.select_for_update(of=("self",)).order_by("pk")


_STOCK_COLUMNS = len(Stock._meta.concrete_fields)


def routing_stocks_locked(
    *, seller_id: int, product_ids: Iterable[int], warehouse_ids: Iterable[int] | None = None
) -> list[Stock]:
    """What ``inventory.selectors.routing_stocks`` reads (the wanted products' stock in
    the seller's active warehouses, or only in ``warehouse_ids``; warehouses loaded; pk
    order), with the stock rows locked. Every order placement runs it, so it goes
    around the ORM's compiler (core.fastsql says why)."""
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return []
    where = [f"s.seller_id = %s AND s.product_id IN ({placeholders(len(product_ids))}) AND w.is_active = %s"]
    params: list = [seller_id, *product_ids, True]
    if warehouse_ids is not None:
        warehouse_ids = sorted(set(warehouse_ids))
        if not warehouse_ids:
            return []
        where.append(f"s.warehouse_id IN ({placeholders(len(warehouse_ids))})")
        params.extend(warehouse_ids)
    lock = ' FOR UPDATE OF "s"' if connection.features.has_select_for_update_of else ""
    stock_table, warehouse_table = Stock._meta.db_table, Warehouse._meta.db_table
    # The warehouse's columns come with its first stock row only (NULL on the others):
    # an order's products share a few warehouses, and every column sent is a value to
    # parse (timestamps, JSON), most of a second for nothing.
    sql = (
        f"WITH locked AS MATERIALIZED (SELECT {columns(Stock, 's')} "
        f'FROM "{stock_table}" s JOIN "{warehouse_table}" w ON w.id = s.warehouse_id '
        f"WHERE {' AND '.join(where)} ORDER BY s.id{lock}) "
        f"SELECT locked.*, {columns(Warehouse, 'w')} FROM locked "
        f'LEFT JOIN "{warehouse_table}" w ON w.id = locked.warehouse_id '
        "AND locked.id = (SELECT MIN(first.id) FROM locked first WHERE first.warehouse_id = locked.warehouse_id) "
        "ORDER BY locked.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    stocks = instances_from_rows(Stock, (row[:_STOCK_COLUMNS] for row in rows))
    # One instance per warehouse, shared by its stock rows (as prefetch_related would),
    # not one per row.
    warehouse_rows = [row[_STOCK_COLUMNS:] for row in rows if row[_STOCK_COLUMNS] is not None]
    warehouses = {warehouse.pk: warehouse for warehouse in instances_from_rows(Warehouse, warehouse_rows)}
    for stock in stocks:
        stock.warehouse = warehouses[stock.warehouse_id]
    return stocks
