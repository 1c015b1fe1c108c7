"""Demo data for ``manage.py seed_demo``: two sellers with warehouses, a catalogue, a
year of order history and a few open orders, so every screen has something to show
and the forecasting has a history worth forecasting.

``catalog`` and ``people`` are static data, ``history`` and ``ledger`` simulate a year
as plain data without touching the database, ``writer`` turns that year into rows
(inserted fast by ``tables``), and ``seed`` puts it together with the real services
for everything that is current.
"""
