"""Who did something: threaded through every service that writes, recorded on events
and ledger rows. Holds ids and a label only, so it crosses app boundaries freely."""

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    STAFF = "staff"
    API_KEY = "api_key"
    MARKETPLACE = "marketplace"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    label: str
    user_id: int | None = None
    api_key_id: int | None = None

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label=label)

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(kind=ActorKind.STAFF, label=user.get_username(), user_id=user.pk)

    @classmethod
    def api_key(cls, api_key) -> "Actor":
        return cls(kind=ActorKind.API_KEY, label=f"api key {api_key.prefix}", api_key_id=api_key.pk)
