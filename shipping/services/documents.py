"""Rows for the shipping documents, from shipments loaded by shipping.selectors."""

from shipping.documents import PackingSlip, PickRow, SlipLine, pick_list_pdf
from shipping.models import PickWave, Shipment
from shipping.services.labels import order_address


def packing_slips(shipments: list[Shipment]) -> list[PackingSlip]:
    return [
        PackingSlip(
            seller_name=shipment.order.seller.name,
            order_number=shipment.order.number,
            shipment_number=shipment.number,
            warehouse=shipment.warehouse.code,
            ship_to=order_address(shipment.order),
            lines=[SlipLine(line.sku, line.name, line.quantity, line.bin_location) for line in shipment.lines.all()],
            carrier=shipment.carrier.name if shipment.carrier_id else "",
            tracking_number=shipment.tracking_number,
            customer_note=shipment.order.customer_note,
        )
        for shipment in shipments
    ]


def pick_list(*, shipments: list[Shipment], title: str) -> bytes:
    warehouses = sorted({shipment.warehouse.code for shipment in shipments})
    rows = [
        PickRow(line.bin_location, line.sku, line.name, line.quantity, shipment.number)
        for shipment in shipments
        for line in shipment.lines.all()
    ]
    return pick_list_pdf(title=title, warehouse=", ".join(warehouses), rows=rows)


def wave_pick_list(wave: PickWave, shipments: list[Shipment]) -> bytes:
    return pick_list(shipments=shipments, title=f"Pick list: wave {wave.number}")
