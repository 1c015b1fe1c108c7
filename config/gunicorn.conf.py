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


# Objects allocated, less those freed, between two collections of the youngest
# generation (Python's default is 700). An order placement allocates thousands of
# objects that die with the request; at the default, collections run several times per
# request and promote its live objects to older generations, collected again later.
GC_THRESHOLD = int(os.environ.get("WAYBILL_GC_THRESHOLD", "20000"))


def when_ready(server):
    from inventory.geocoding import geocoding_tables_load

    geocoding_tables_load()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
