"""Worked facts for billing's documents and exports: one provider, two municipalities paying it."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from pfdo_billing.domain.documents.facts import (
    ActFacts, AdvanceRequestFacts, AgreementRef, ContractInstalment, ContractLine, InvoiceFacts, MonthlyParties,
    Organisation,
)
from pfdo_billing.domain.exports.orders import ExportedOrder

NOVEMBER = dt.date(2027, 11, 1)
PROVIDER = Organisation(
    name="Автономная некоммерческая организация дополнительного образования «Робототехника и программирование»",
    inn="7707083893", kpp="773601001", account="40703810938000012345", bik="044525225",
    corr_account="30101810400000000225", bank="ПАО Сбербанк, г. Москва", address="г. Энск, ул. Садовая, д. 12",
    head="Директор Петрова Анна Викторовна",
)
SOLE_TRADER = Organisation(
    name="Индивидуальный предприниматель Сидоров Олег Петрович", inn="500100732259", kpp=None,
    account="40802810400000004567", bik="044525974", corr_account="30101810145250000974",
    bank="АО «ТБанк», г. Москва",
)
ENSK = Organisation(
    name="Управление образования администрации г. Энска", inn="7725088527", kpp="772501001",
    account="03221643450000007300", bik="004525988", corr_account="40102810545370000003",
    bank="ГУ Банка России по ЦФО//УФК по г. Энску", head="Начальник управления Кузнецов Игорь Павлович",
)
ZARECHNY = Organisation(
    name="Отдел образования администрации Заречного муниципального округа", inn="5024002119", kpp="502401001",
    account="03231643460000004800", bik="004525987", corr_account="40102810845370000004",
    bank="ГУ Банка России по ЦФО//УФК по Московской области",
)
AGREEMENT = AgreementRef("15-ПФ/2027", dt.date(2027, 8, 25))
ENSK_NOVEMBER = MonthlyParties("prov-1", "01", PROVIDER, ENSK, AGREEMENT, NOVEMBER)
ZARECHNY_NOVEMBER = MonthlyParties("prov-1", "02", PROVIDER, ZARECHNY, AgreementRef("7/2027", dt.date(2027, 8, 30)),
                                   NOVEMBER)


def contract_lines(count: int = 14) -> tuple[ContractLine, ...]:
    lines = []
    for n in range(1, count + 1):
        if n % 3 == 0:  # attendance contracts: attended of planned lessons
            planned, attended = 9, 9 - n % 4
            instalment = 1_111_12
            lines.append(ContractLine(f"ДО-{n:04d}-2027", f"77010{n:05d}", Fraction(attended, planned),
                                      instalment * attended // planned, (attended, planned)))
        else:
            lines.append(ContractLine(f"ДО-{n:04d}-2027", f"77010{n:05d}", Fraction(1), 1_111_12 + n))
    return tuple(lines)


INVOICE = InvoiceFacts(ENSK_NOVEMBER, dt.date(2027, 12, 3), contract_lines(), advance_paid_kopecks=10_500_00)
ADVANCE_REQUEST = AdvanceRequestFacts(
    ENSK_NOVEMBER, dt.date(2027, 11, 1),
    tuple(ContractInstalment(line.contract_number, 1_111_12) for line in contract_lines()),
)
ACT = ActFacts(ENSK_NOVEMBER, dt.date(2027, 12, 3), contract_lines())


def orders() -> tuple[ExportedOrder, ...]:
    return (
        ExportedOrder("101", dt.date(2027, 11, 1), "advance", NOVEMBER, 12_445_54, ENSK, PROVIDER, 14, "paid",
                      AGREEMENT),
        ExportedOrder("102", dt.date(2027, 11, 1), "advance", NOVEMBER, 1_777_79, ZARECHNY, PROVIDER, 2, "accepted"),
        ExportedOrder("103", dt.date(2027, 12, 3), "final", NOVEMBER, 4_308_07, ENSK, PROVIDER, 14, "issued",
                      AGREEMENT),
        ExportedOrder("104", dt.date(2027, 12, 3), "final", NOVEMBER, 99, ZARECHNY, SOLE_TRADER, 1, "returned"),
    )
