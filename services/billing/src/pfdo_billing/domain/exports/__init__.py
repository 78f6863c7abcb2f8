"""Exports of payment orders and invoices: CSV, XLSX and the 1CClientBankExchange bank file."""

from pfdo_billing.domain.exports.bank_exchange import bank_exchange_bytes, bank_exchange_text
from pfdo_billing.domain.exports.orders import ExportedOrder
from pfdo_billing.domain.exports.tables import Sheet, csv_bytes, invoices_sheet, orders_sheet, xlsx_bytes

__all__ = ["ExportedOrder", "Sheet", "bank_exchange_bytes", "bank_exchange_text", "csv_bytes", "invoices_sheet",
           "orders_sheet", "xlsx_bytes"]
