"""The appendix to an invoice and to an act (реестр договоров): contract №, certificate №, share
of the service delivered, sum; with the total."""

from __future__ import annotations

from pfdo_plumbing.documents import Column, Money, Table

from pfdo_billing.domain.documents.facts import ContractLine
from pfdo_billing.domain.money import require_kopecks

COLUMNS = (
    Column("№ п/п", 1, align="RIGHT"),
    Column("Договор №", 4),
    Column("Сертификат №", 3),
    Column("Доля оказанной услуги", 4, align="RIGHT"),
    Column("Сумма", 3, total=True, align="RIGHT"),
)


def appendix_total(lines: tuple[ContractLine, ...]) -> int:
    """The appendix total in kopecks: the sum of its lines."""
    return sum(require_kopecks(line.amount_kopecks, "amount_kopecks") for line in lines)


def contracts_register(lines: tuple[ContractLine, ...], heading: str) -> Table:
    ordered = sorted(lines, key=lambda line: (line.contract_number, line.certificate_number))
    return Table(heading, COLUMNS, tuple(
        (index, line.contract_number, line.certificate_number, line.share(), Money(line.amount_kopecks))
        for index, line in enumerate(ordered, start=1)
    ))
