"""Migration helpers shared by apps."""

from django.db import migrations

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION waybill_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def append_only(table: str) -> migrations.RunPython:
    """Refuse UPDATE and DELETE on ``table`` in PostgreSQL, so an audit trail stays one
    even against a bug or a hand-written query. (SQLite, the embedded default, relies on
    the services and the read-only admin.)"""
    trigger = f"{table}_append_only"

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(APPEND_ONLY_FUNCTION, params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION waybill_refuse_change()"
        )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")

    return migrations.RunPython(forwards, backwards)


def index_statements_run(schema_editor, *statements: str) -> None:
    """Run index DDL with ``{concurrently}`` in place: ``CONCURRENTLY`` on PostgreSQL,
    so writes go on while a big table is indexed (the migration must be
    ``atomic = False``), nothing on SQLite."""
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for statement in statements:
        schema_editor.execute(statement.format(concurrently=concurrently))
