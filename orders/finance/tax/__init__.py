from orders.finance.tax.base import TaxableCharge, TaxedCharge, TaxEngine, TaxQuote, TaxRequest, tax_engine

__all__ = ["TaxEngine", "TaxQuote", "TaxRequest", "TaxableCharge", "TaxedCharge", "tax_engine"]
