"""Print shell exports for the test run: the database and broker to use.

An explicit DATABASE_URL / CELERY_BROKER_URL wins. Otherwise the local PostgreSQL and
Redis are used when they answer, and SQLite / the filesystem broker when they do not
(the test session then says loudly what it skipped)."""

import os
import socket
import sys

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/waybill"
LOCAL_REDIS = "redis://127.0.0.1:6379/14"


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


database = os.environ.get("DATABASE_URL") or (LOCAL_POSTGRES if answers("127.0.0.1", 5432) else "")
broker = os.environ.get("CELERY_BROKER_URL") or (LOCAL_REDIS if answers("127.0.0.1", 6379) else "")
if database:
    print(f"export DATABASE_URL={database}")
if broker:
    print(f"export CELERY_BROKER_URL={broker}")

if "--create-database" in sys.argv[1:] and database.startswith("postgres://"):
    # Benchmarks run against a real database of their own: create it on first use.
    import psycopg

    url = database.rsplit("/", 1)
    with psycopg.connect(f"{url[0]}/postgres", autocommit=True) as connection:
        name = url[1].split("?")[0]
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
