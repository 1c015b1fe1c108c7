"""Fast inserts of many rows of one model, for the demo's year of history.

``bulk_create`` builds a model instance and an SQL placeholder per value; for a year
of history that alone took four times as long as the database's own work, and
``make run`` has a minute to come up. ``TableWriter`` writes the same values, each
converted by the backend's own adapter for its field type (the one the ORM uses), in
the cheapest form each backend offers: ``executemany`` of one prepared statement on
SQLite, ``COPY`` on PostgreSQL (where ``executemany`` with Django's client-side
binding costs a round trip per row). Only the demo uses it: it bypasses model
validation and signals, which is acceptable for rows built from checked plain data.
"""

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import repeat
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, DecimalField, Field, JSONField, Model

EXECUTEMANY_BATCH = 2000


class TableWriter:
    """Inserts rows given as tuples in ``field_names`` order; every other column gets
    its field's default. Converted times are remembered in ``times``: the demo's
    events and ledger entries happen at times their orders also record, so writers of
    one history share one dictionary."""

    def __init__(self, model: type[Model], field_names: Sequence[str], *, times: dict | None = None):
        meta = model._meta
        given = [meta.get_field(name) for name in field_names]
        missing = [f for f in meta.concrete_fields if not f.primary_key and f not in given]
        self.times = {} if times is None else times
        self.adapters = [self._adapter(f) for f in given]
        self.defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in missing)
        quote = connection.ops.quote_name
        table = quote(meta.db_table)
        columns = ", ".join(quote(f.column) for f in given + missing)
        placeholders = ", ".join(["%s"] * (len(given) + len(missing)))
        self.insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"

    def _adapter(self, field: Field) -> Callable[[Any], Any] | None:
        """Strings, integers and None pass as they are; times, decimals and JSON get the
        backend's conversion (naive UTC text on SQLite, Jsonb on PostgreSQL). The
        adapters are bound once: through a field's get_db_prep_save every value would
        look the connection up again, which was half the cost."""
        ops = connection.ops
        if isinstance(field, DateTimeField):
            known, adapt = self.times, ops.adapt_datetimefield_value

            def adapt_time(value):
                if value not in known:
                    known[value] = adapt(value)
                return known[value]

            return adapt_time
        if isinstance(field, DecimalField):
            return partial(
                ops.adapt_decimalfield_value, max_digits=field.max_digits, decimal_places=field.decimal_places
            )
        if isinstance(field, JSONField):
            return partial(ops.adapt_json_value, encoder=field.encoder)
        return None

    def insert(self, rows: Iterable[Sequence[Any]]) -> int:
        """Adapt column by column (``map`` over a column is several times cheaper than
        a test per value), then write in table order. Returns the number of rows."""
        columns = list(zip(*rows, strict=True))
        if not columns:
            return 0
        count = len(columns[0])
        adapted = [
            column if adapt is None else list(map(adapt, column))
            for adapt, column in zip(self.adapters, columns, strict=True)
        ]
        prepared = list(zip(*adapted, *(repeat(default, count) for default in self.defaults), strict=True))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in prepared:
                        copy.write_row(row)
            else:
                for start in range(0, count, EXECUTEMANY_BATCH):
                    cursor.executemany(self.insert_sql, prepared[start : start + EXECUTEMANY_BATCH])
        return count
