"""Secrets at rest (marketplace and payment credentials): Fernet (AES-128-CBC with an
HMAC-SHA256 tag) from the ``cryptography`` library, with key rotation.

``WAYBILL_ENCRYPTION_KEYS`` lists Fernet keys, newest first: the first encrypts, any of
them decrypts, so a new key is added in front and the old one dropped once
``secrets_reencrypt`` has run. Without the setting (development, tests) one key is
derived from SECRET_KEY; production requires the setting, so rotating SECRET_KEY never
makes stored credentials unreadable."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from core.exceptions import ApplicationError


class SecretUnreadable(ApplicationError):
    code = "secret_unreadable"
    status_code = 500
    default_message = "A stored credential cannot be decrypted with the configured keys."


def _derived_key() -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(f"waybill-secrets:{settings.SECRET_KEY}".encode()).digest())


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys] if keys else [Fernet(_derived_key())])


def _keys() -> tuple[str, ...]:
    return tuple(settings.WAYBILL_ENCRYPTION_KEYS)


def secret_encrypt(plain: str) -> str:
    return _fernet(_keys()).encrypt(plain.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable() from exc


def secret_reencrypt(token: str) -> str:
    """The same secret under the newest key (for rotation)."""
    return _fernet(_keys()).rotate(token.encode()).decode()
