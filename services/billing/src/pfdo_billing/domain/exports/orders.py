"""A payment order as the exports see it: number, date, kind, month, amount, payer, payee."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pfdo_plumbing import russian_format as ru

from pfdo_billing.domain.documents.facts import AgreementRef, Organisation

OrderKind = Literal["advance", "final"]
KIND_TEXT = {"advance": "аванс", "final": "окончательный расчёт"}
STATUS_TEXT = {"issued": "выставлено", "accepted": "принято казначейством", "paid": "оплачено",
               "returned": "возвращено"}


@dataclass(frozen=True)
class ExportedOrder:
    """One payment order to export (the register, the 1C bank file)."""

    number: str
    """The order's number (digits, as a bank expects it)."""
    issued_on: dt.date
    kind: OrderKind
    month: dt.date
    amount_kopecks: int
    payer: Organisation
    payee: Organisation
    contracts: int = 0
    status: str = "issued"
    agreement: AgreementRef | None = None

    def purpose(self) -> str:
        """Назначение платежа."""
        basis = f" по соглашению {self.agreement.text()}" if self.agreement else ""
        return (f"Оплата образовательных услуг по сертификатам дополнительного образования{basis}: "
                f"{KIND_TEXT[self.kind]} за {ru.month(self.month)}. Без НДС")
