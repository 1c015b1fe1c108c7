"""gunicorn settings for production: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

The app is loaded once in the master, and the offline geocoding tables (about five
seconds to build) are built there before the workers fork, so no customer's order pays
for them and the workers share one copy.

Then the master's heap is frozen (``gc.freeze``, as the gc module's documentation advises
before a fork): the cyclic garbage collector leaves those objects alone, so a worker's
full collection no longer walks the tables' several hundred thousand objects (0.3 s each
on this project's machine, about one per thousand orders) nor writes to the pages the
workers share. Under the order benchmark the difference was within its noise."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
preload_app = True
backlog = 2048
timeout = 30
accesslog = os.environ.get("GUNICORN_ACCESS_LOG")  # "-" for stdout; off by default


def when_ready(server):
    from inventory.geocoding import geocoding_tables_load

    geocoding_tables_load()
    gc.collect()
    gc.freeze()
