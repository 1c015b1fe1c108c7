"""Carrier backends by account kind. An explicit table, no dynamic loading."""

from shipping.carriers.base import Carrier
from shipping.carriers.easypost import EasyPostCarrier
from shipping.carriers.manual import ManualCarrier
from shipping.carriers.table_rate import TableRateCarrier
from shipping.models import CarrierAccount, CarrierKind

BACKENDS = {
    CarrierKind.TABLE_RATE: TableRateCarrier,
    CarrierKind.MANUAL: ManualCarrier,
    CarrierKind.EASYPOST: EasyPostCarrier,
}

# Kinds whose tracking Waybill must ask for.
POLLED_KINDS = frozenset(kind for kind, backend in BACKENDS.items() if backend.needs_polling)


def carrier_backend(account: CarrierAccount) -> Carrier:
    return BACKENDS[account.kind](account)
