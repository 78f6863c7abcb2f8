"""The nominal of a certificate for a period (docs/domain-rules.md, "Periods and nominal").

- The operator sets the nominal per municipality and age group for each period.
- On period opening every active funding certificate is credited its nominal; one that becomes
  funding mid-period is credited pro rata by remaining months:
  nominal × remaining_months / months_in_period, rounded half up to the kopeck, where the month
  of activation counts as a whole remaining month.
- The age group is chosen by the child's age on the period start (the platform's one rule,
  :mod:`pfdo_contracts.rules.age`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pfdo_billing.domain.calendar import Period, remaining_months
from pfdo_billing.domain.errors import AmbiguousAgeGroup, InvalidAmount, NoAgeGroup
from pfdo_billing.domain.money import require_kopecks, scale_half_up
from pfdo_contracts.rules.age import age_on


def prorated_nominal(nominal: int, period: Period, funded_on: date) -> int:
    """The nominal credited to a certificate that becomes funding on ``funded_on``.

    On or before the period start this is the whole nominal; after the period end it is 0.
    """
    require_kopecks(nominal, "nominal")
    return scale_half_up(nominal, remaining_months(period, funded_on), period.month_count)


@dataclass(frozen=True)
class AgeGroup:
    """An age group of the nominal table: ages ``min_age..max_age`` inclusive."""

    min_age: int
    max_age: int

    def __post_init__(self) -> None:
        if self.min_age < 0 or self.max_age < self.min_age:
            raise InvalidAmount(
                "an age group needs 0 <= min_age <= max_age",
                min_age=self.min_age,
                max_age=self.max_age,
            )

    def contains(self, age: int) -> bool:
        """Whether ``age`` (full years) belongs to the group."""
        return self.min_age <= age <= self.max_age


@dataclass(frozen=True)
class NominalRate:
    """The nominal (kopecks) of one age group for a municipality and period."""

    age_group: AgeGroup
    nominal: int

    def __post_init__(self) -> None:
        require_kopecks(self.nominal, "nominal")


def age_group_for(birth_date: date, period: Period, groups: Sequence[AgeGroup]) -> AgeGroup:
    """The group containing the child's age on the period start.

    Raises ``NoAgeGroup`` when none does and ``AmbiguousAgeGroup`` when the groups overlap there.
    """
    if period.starts_on < birth_date:  # no age before the birth: no group either
        raise NoAgeGroup("the child is born after the period starts", age=None)
    age = age_on(birth_date, period.starts_on)
    matching = [group for group in groups if group.contains(age)]
    if not matching:
        raise NoAgeGroup("no age group for this age", age=age)
    if len(matching) > 1:
        raise AmbiguousAgeGroup("several age groups contain this age", age=age)
    return matching[0]


def nominal_for(birth_date: date, period: Period, rates: Sequence[NominalRate]) -> int:
    """The full-period nominal of the child's age group (age on the period start)."""
    group = age_group_for(birth_date, period, [rate.age_group for rate in rates])
    return next(rate.nominal for rate in rates if rate.age_group == group)
