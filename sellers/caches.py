"""The sellers app's per-process caches (see core.cache)."""

from core.cache import ConfigCache

# API key digest → (api key snapshot, seller snapshot) of a live key.
api_keys_cache = ConfigCache("api keys")
