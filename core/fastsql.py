"""Two narrow ways around the ORM's query compiler, for the order-capture hot path.

Why: Django compiles every query anew. On the 2-core machine this project is measured
on, compiling a five-row ``filter(...)`` costs about 1.5 ms and an INSERT about as much,
four times what PostgreSQL takes to run them, and an order placement needs a dozen
statements. Here the statement text is built once (per model and row count) and rows
still become ordinary model instances:

- ``select_instances``: instances from a SELECT of the model's columns (``columns()``)
  with a WHERE clause the caller writes, through ``Model.from_db`` as the ORM does.
- ``insert_rows``: one INSERT for unsaved instances; values go through each field's
  own ``pre_save`` (timestamps, defaults) and ``get_db_prep_save`` (django-money, JSON,
  UUIDs) as ``bulk_create`` sends them. Like ``bulk_create`` it sends no signals and
  calls no ``save()``: only for models that have neither.

Everything else keeps using the ORM.
"""

from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import TypeVar

from django.db import connections, models

Model = TypeVar("Model", bound=models.Model)


def placeholders(count: int) -> str:
    """``%s, %s, …`` for an IN list (PostgreSQL and SQLite alike)."""
    return ", ".join(["%s"] * count)


@cache
def columns(model: type[models.Model], alias: str = "") -> str:
    """The model's columns in ``from_db`` order, optionally qualified by a table alias."""
    prefix = f'"{alias}".' if alias else ""
    return ", ".join(f'{prefix}"{field.column}"' for field in model._meta.concrete_fields)


@cache
def attnames(model: type[models.Model]) -> tuple[str, ...]:
    """The model's column attribute names in ``from_db`` order."""
    return tuple(field.attname for field in model._meta.concrete_fields)


def _converters(connection, model: type[models.Model]) -> list[tuple[int, list, models.expressions.Col]]:
    """The backend's and the fields' value converters per column, as the ORM applies
    them (JSON text, SQLite's dates and decimals…), worked out once per connection."""
    cache = connection.__dict__.setdefault("_fastsql_converters", {})
    if model not in cache:
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            column = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if converters:
                found.append((index, converters, column))
        cache[model] = found
    return cache[model]


def instances_from_rows(model: type[Model], rows: Iterable[Sequence], *, using: str = "default") -> list[Model]:
    """Model instances from rows holding ``columns(model)`` in order."""
    names = attnames(model)
    connection = connections[using]
    converters = _converters(connection, model)
    instances = []
    for row in rows:
        values = list(row)
        for index, functions, column in converters:
            for convert in functions:
                values[index] = convert(values[index], column, connection)
        instances.append(model.from_db(using, names, values))
    return instances


def select_instances(model: type[Model], where: str, params: Sequence, *, using: str = "default") -> list[Model]:
    """``SELECT <the model's columns> FROM <its table> WHERE <where>`` as instances."""
    sql = f'SELECT {columns(model)} FROM "{model._meta.db_table}" WHERE {where}'
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return instances_from_rows(model, cursor.fetchall(), using=using)


@cache
def _insert_fields(model: type[models.Model], with_pk: bool) -> tuple[tuple[models.Field, ...], str]:
    pk = model._meta.pk
    fields = tuple(
        field
        for field in model._meta.concrete_fields
        if with_pk or not (field is pk and isinstance(field, models.AutoField | models.BigAutoField))
    )
    return fields, ", ".join(f'"{field.column}"' for field in fields)


@lru_cache(maxsize=1024)
def _insert_statement(
    model: type[models.Model],
    rows: int,
    prefix: str = "",
    expressions: tuple[tuple[str, str], ...] = (),
    with_pk: bool = False,
) -> tuple[str, tuple[models.Field, ...], tuple[models.Field, ...]]:
    """The statement, the fields whose values are parameters, and those that come back."""
    fields, names = _insert_fields(model, with_pk)
    computed = dict(expressions)
    params = tuple(field for field in fields if field.attname not in computed)
    row = "(" + ", ".join(computed.get(field.attname, "%s") for field in fields) + ")"
    returned = (model._meta.pk, *(field for field in fields if field.attname in computed))
    returning = ", ".join(f'"{field.column}"' for field in returned)
    statement = (
        f'{prefix} INSERT INTO "{model._meta.db_table}" ({names}) VALUES {", ".join([row] * rows)} '
        f"RETURNING {returning}"
    )
    return statement.lstrip(), params, returned


def insert_rows(
    objs: Sequence[models.Model],
    *,
    using: str = "default",
    prefix: tuple[str, Sequence] = ("", ()),
    expressions: dict[str, str] | None = None,
    with_pk: bool = False,
) -> None:
    """Insert the instances (all of one model, none saved yet) and set their primary
    keys, in the caller's transaction. PostgreSQL and SQLite ≥ 3.35 return the keys in
    the order of the VALUES rows, as ``bulk_create`` also relies on.

    ``prefix`` (SQL and its parameters) goes before the INSERT, e.g. a ``WITH`` whose
    result ``expressions`` (field attname → SQL) use in place of those fields' values;
    what the database made of them is set on the instances. ``with_pk``: the instances
    carry primary keys drawn beforehand (an auto key is otherwise left to the database).
    """
    if not objs:
        return
    model = type(objs[0])
    connection = connections[using]
    prefix_sql, prefix_params = prefix
    statement, fields, returned = _insert_statement(
        model, len(objs), prefix_sql, tuple(sorted((expressions or {}).items())), with_pk
    )
    params = list(prefix_params)
    for obj in objs:
        # As bulk_create: a related object saved after it was assigned lends its key,
        # an unsaved one is refused.
        obj._prepare_related_fields_for_save(operation_name="insert_rows")
        for field in fields:
            params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    for obj, row in zip(objs, rows, strict=True):
        for field, value in zip(returned, row, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
