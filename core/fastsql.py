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
- ``deferred_writes``: inside it, on PostgreSQL, writes whose answer nobody waits for
  (``insert_rows(..., deferred=True)``, ``write``) are held back and go with the next
  statement, as data-modifying ``WITH`` clauses of one statement: an order placement
  writes six tables in two statements instead of six round trips (each costs the web
  process and PostgreSQL CPU). A held row's error (a duplicate key) is raised by the
  statement that carries it: code that turns its own statement's error into another
  sends the held writes first (``send_held``).

Everything else keeps using the ORM.
"""

import contextlib
import inspect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from functools import cache, lru_cache
from typing import TypeVar

from django.db import connections, models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from djmoney.models.fields import CurrencyField, MoneyField, MoneyFieldProxy
from djmoney.money import Money
from psycopg.pq import TransactionStatus

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


# The descriptors through which Model.__init__ sets a loaded value without changing it
# (django-money's keeps the amount, as loaded, until read).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute, MoneyFieldProxy)


@cache
def _plain_model(model: type[models.Model]) -> bool:
    """Whether ``Model.from_db`` would only store the loaded values: no __init__ or
    from_db of the model's own, and only descriptors that store values as they are."""
    return (
        model.__init__ is models.Model.__init__
        and model.from_db.__func__ is models.Model.from_db.__func__
        and all(
            isinstance(inspect.getattr_static(model, field.attname, None), _PLAIN_DESCRIPTORS)
            for field in model._meta.concrete_fields
        )
    )


def instances_from_rows(model: type[Model], rows: Iterable[Sequence], *, using: str = "default") -> list[Model]:
    """Model instances from rows holding ``columns(model)`` in order.

    For a plain model (``_plain_model``) without pre_init or post_init receivers, the
    instance's attributes are filled as ``Model.from_db`` would fill them, without
    going through ``__init__``: it sets each value through its descriptor and sends two
    signals, five times the cost, and an order placement loads fifteen rows."""
    names = attnames(model)
    connection = connections[using]
    converters = _converters(connection, model)
    plain = _plain_model(model) and not (pre_init.has_listeners(model) or post_init.has_listeners(model))
    instances = []
    for row in rows:
        values = list(row)
        for index, functions, column in converters:
            for convert in functions:
                values[index] = convert(values[index], column, connection)
        if plain:
            instance = model.__new__(model)
            instance.__dict__.update(zip(names, values, strict=True))
            state = instance._state = ModelState()
            state.adding, state.db = False, using
        else:
            instance = model.from_db(using, names, values)
        instances.append(instance)
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
    model: type[models.Model], rows: int, expressions: tuple[tuple[str, str], ...] = (), with_pk: bool = False
) -> tuple[str, tuple[tuple[models.Field, type | None], ...], tuple[models.Field, ...]]:
    """The statement (its RETURNING list last, to which more may be added), the fields
    whose values are parameters (with the type they take as it is, see ``_as_is``), and
    those that come back."""
    fields, names = _insert_fields(model, with_pk)
    computed = dict(expressions)
    params = tuple((field, _as_is(field)) for field in fields if field.attname not in computed)
    row = "(" + ", ".join(computed.get(field.attname, "%s") for field in fields) + ")"
    returned = (model._meta.pk, *(field for field in fields if field.attname in computed))
    returning = ", ".join(f'"{field.column}"' for field in returned)
    statement = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES {", ".join([row] * rows)} RETURNING {returning}'
    return statement, params, returned


# Fields whose database value is the Python value itself when it has exactly this type
# (``get_db_prep_save`` would only check that): the value is passed as it is, sparing
# the field's chain of conversions for most of a placement's hundred-odd parameters.
# Exact classes only: a subclass may convert, and so may a value of another type (a
# choices enum, a bool for an integer). A decimal is passed as it is when finite, and
# django-money's Money as its amount (what MoneyField sends, by way of DecimalField).
_AS_IS = {
    models.BigIntegerField: int,
    models.BooleanField: bool,
    models.CharField: str,
    models.DecimalField: Decimal,
    models.EmailField: str,
    models.ForeignKey: int,
    models.IntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int,
    models.TextField: str,
    CurrencyField: str,
    MoneyField: Money,
}


def _as_is(field: models.Field) -> type | None:
    """The type whose values ``field`` saves as they are, if any."""
    if isinstance(field, models.ForeignKey) and not isinstance(
        field.target_field, models.AutoField | models.BigAutoField | models.IntegerField
    ):
        return None
    return _AS_IS.get(type(field))


def _insert_params(
    objs: Sequence[models.Model], fields: Sequence[tuple[models.Field, type | None]], connection
) -> list:
    params = []
    for obj in objs:
        # As bulk_create: a related object saved after it was assigned lends its key,
        # an unsaved one is refused.
        obj._prepare_related_fields_for_save(operation_name="insert_rows")
        for field, as_is in fields:
            if as_is is not None:
                value = getattr(obj, field.attname)
                if as_is is Money and type(value) is Money:
                    value = value.amount
                    as_is = Decimal
                if value is None or (type(value) is as_is and (as_is is not Decimal or value.is_finite())):
                    params.append(value)
                    continue
            params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    return params


def _saved(
    objs: Sequence[models.Model], returned: Sequence[models.Field], rows: Iterable[Sequence], using: str
) -> None:
    for obj, row in zip(objs, rows, strict=True):
        for field, value in zip(returned, row, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using


def insert_rows(
    objs: Sequence[models.Model],
    *,
    using: str = "default",
    ctes: Sequence[tuple[str, Sequence]] = (),
    expressions: dict[str, str] | None = None,
    with_pk: bool = False,
    returning: Sequence[str] = (),
    deferred: bool = False,
) -> tuple:
    """Insert the instances (all of one model, none saved yet) and set their primary
    keys, in the caller's transaction. PostgreSQL and SQLite ≥ 3.35 return the keys in
    the order of the VALUES rows, as ``bulk_create`` also relies on.

    ``ctes``: ``name AS (…)`` clauses (SQL and parameters) of a ``WITH`` before the
    INSERT, whose results ``expressions`` (field attname → SQL) use in place of those
    fields' values; what the database made of them is set on the instances. ``returning``:
    more SQL expressions to send back; their values (from the first row) are returned.
    ``with_pk``: the instances carry primary keys drawn beforehand (an auto key is
    otherwise left to the database). ``deferred``: inside ``deferred_writes``, the rows
    go with the next statement, and the keys are set then.
    """
    if not objs:
        return ()
    model = type(objs[0])
    connection = connections[using]
    statement, fields, returned = _insert_statement(
        model, len(objs), tuple(sorted((expressions or {}).items())), with_pk
    )
    params = _insert_params(objs, fields, connection)
    batch = _batch(connection)
    if deferred and batch is not None:
        if ctes or expressions or returning:
            raise ValueError("A deferred insert has no WITH clauses or expressions, and returns nothing more.")
        batch.pending.append(_Pending(statement, params, objs, returned))
        return ()
    clauses = [*(batch.take() if batch is not None else ()), *ctes]
    if clauses:
        statement = "WITH " + ", ".join(sql for sql, _ in clauses) + " " + statement
        params = [value for _, clause_params in clauses for value in clause_params] + params
    extra = [*returning, *(batch.returning() if batch is not None else ())]
    if extra:
        statement += ", " + ", ".join(extra)
    with _sending(batch), connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    width = len(returned)
    _saved(objs, returned, (row[:width] for row in rows), using)
    if batch is not None:
        batch.saved(rows[0][width + len(returning) :], using)
    return tuple(rows[0][width : width + len(returning)])


def write(sql: str, params: Sequence, *, using: str = "default") -> None:
    """A data-modifying statement whose result nobody reads (an UPDATE without
    RETURNING): inside ``deferred_writes`` it goes with the next statement, otherwise
    now. Whatever was held before it is sent first: the clauses of one statement do not
    see each other's changes, and two that change one row apply only one change; so a
    held write goes first and alone among raw writes (what follows it are new rows)."""
    connection = connections[using]
    batch = _batch(connection)
    if batch is not None:
        batch.flush(connection)
        batch.pending.append(_Pending(sql, list(params)))
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@dataclass
class _Pending:
    sql: str
    params: list
    objs: Sequence[models.Model] = ()
    returned: Sequence[models.Field] = ()


@dataclass
class _Batch:
    """The writes held back on one connection (``deferred_writes``)."""

    pending: list[_Pending] = dataclass_field(default_factory=list)
    # The inserts whose keys the statement being sent brings back: (WITH name, insert).
    sent: list[tuple[str, _Pending]] = dataclass_field(default_factory=list)
    sending: bool = False

    def take(self) -> list[tuple[str, list]]:
        """The held writes as ``WITH`` clauses, for the statement about to be sent."""
        clauses = [(f"w{index} AS ({pending.sql})", pending.params) for index, pending in enumerate(self.pending)]
        self.sent = [(f"w{index}", pending) for index, pending in enumerate(self.pending) if pending.objs]
        self.pending = []
        return clauses

    def returning(self) -> list[str]:
        """Per held insert, its rows' keys (and computed values) in VALUES order: the
        keys one statement draws rise with its rows."""
        return [
            f'(SELECT array_agg("{field.column}" ORDER BY "{pending.returned[0].column}") FROM {name})'
            for name, pending in self.sent
            for field in pending.returned
        ]

    def saved(self, values: Sequence, using: str) -> None:
        """Sets the keys the statement brought back (the values ``returning`` asked for)."""
        index = 0
        for _, pending in self.sent:
            columns = values[index : index + len(pending.returned)]
            index += len(pending.returned)
            _saved(pending.objs, pending.returned, zip(*columns, strict=True), using)
        self.sent = []

    def flush(self, connection) -> None:
        """Sends the held writes on their own."""
        if not self.pending:
            return
        clauses = self.take()
        extra = self.returning() or ["1"]
        with _sending(self), connection.cursor() as cursor:
            cursor.execute(
                "WITH " + ", ".join(sql for sql, _ in clauses) + " SELECT " + ", ".join(extra),
                [value for _, params in clauses for value in params],
            )
            row = cursor.fetchone()
        self.saved(row if self.sent else (), connection.alias)

    def before_statement(self, execute, sql, params, many, context):
        """Django's execute wrapper: any other statement is sent after the held writes,
        so whatever runs meanwhile (the ORM, a savepoint) sees them."""
        if self.pending and not self.sending:
            self.flush(context["connection"])
        return execute(sql, params, many, context)


@contextlib.contextmanager
def _sending(batch: _Batch | None) -> Iterator[None]:
    if batch is None:
        yield
        return
    batch.sending = True
    try:
        yield
    finally:
        batch.sending = False


def _batch(connection) -> _Batch | None:
    return connection.__dict__.get("_fastsql_batch")


def send_held(using: str = "default") -> None:
    """Send what ``deferred_writes`` holds now. For code that turns a database error of
    its own statement into something else (``except IntegrityError`` around a
    savepoint): a held row's error would otherwise surface in that statement."""
    connection = connections[using]
    if (batch := _batch(connection)) is not None:
        batch.flush(connection)


@contextlib.contextmanager
def deferred_writes(using: str = "default") -> Iterator[None]:
    """Hold back deferred writes (see the module's docstring) until the next statement,
    and send what is left when the block ends. PostgreSQL only (SQLite runs no INSERT
    inside a ``WITH``): elsewhere, or outside a transaction, every write goes at once.

    As if each write had gone at once: when the block raises and the transaction can
    still go on (the error is not the database's), the held writes are sent before the
    error goes up, since a caller may catch it and commit; when the transaction failed,
    they are dropped with it. Inside another such block, it shares that block's held
    writes and sends them all when it ends."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    if (outer := _batch(connection)) is not None:
        yield
        outer.flush(connection)
        return
    batch = connection.__dict__["_fastsql_batch"] = _Batch()
    try:
        with connection.execute_wrapper(batch.before_statement):
            try:
                yield
            except BaseException:
                if connection.connection.info.transaction_status != TransactionStatus.INERROR:
                    batch.flush(connection)
                raise
            batch.flush(connection)
    finally:
        del connection.__dict__["_fastsql_batch"]
