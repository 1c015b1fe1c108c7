from collections.abc import Sequence

from core.exceptions import ApplicationError, Conflict, ValidationFailed
from inventory.routing.base import Shortage


class InsufficientStock(ApplicationError):
    code = "insufficient_stock"
    status_code = 409
    default_message = "Not enough stock to fill the request."

    def __init__(self, shortages: Sequence[Shortage], message: str | None = None):
        self.shortages = tuple(shortages)
        skus = ", ".join(s.sku or str(s.product_id) for s in self.shortages)
        super().__init__(
            message or f"Not enough stock for {skus}.",
            details={"shortages": [s.as_detail() for s in self.shortages]},
        )


class StockConflict(Conflict):
    code = "stock_conflict"
    default_message = "The stock change would leave on hand below what is allocated."


class InvalidStockChange(ValidationFailed):
    code = "invalid_stock_change"
    default_message = "The stock change is not valid."
