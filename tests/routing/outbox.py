"""Running the outbox by hand in tests, as the relay task and the worker would."""

from functools import partial

from django.test import TestCase

from core.models import OutboxEvent
from core.outbox import outbox_dispatch


def dispatch(*topics: str) -> int:
    """Run the handlers of every pending outbox event of the topics, then the tasks they
    queued after commit. Returns how many events ran."""
    pending = list(OutboxEvent.objects.filter(topic__in=topics, dispatched_at__isnull=True).order_by("pk"))
    for event in pending:
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            outbox_dispatch(event_id=event.pk)
        for callback in callbacks:
            if isinstance(callback, partial) and getattr(callback.func, "__name__", "") == "delay":
                callback.func.__self__.apply(kwargs=callback.keywords).get(propagate=True)
    return len(pending)
