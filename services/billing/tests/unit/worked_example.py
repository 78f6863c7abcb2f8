"""The worked example of the billing brief, shared by several test modules.

Nominal 30 000 ₽; a module from 2026-09-01 to 2027-05-31 (273 days) priced 12 000 ₽ with
normative cost 10 000 ₽; enrolment from 2026-10-01 (243 days) in attendance mode.
"""

from datetime import date

NOMINAL = 3_000_000
PRICE = 1_200_000
NORMATIVE = 1_000_000
MODULE_START = date(2026, 9, 1)
MODULE_END = date(2027, 5, 31)
ENROL_START = date(2026, 10, 1)

# 1 200 000 × 243 / 273 = 1 068 131.87 -> 1 068 132 (half up)
COST = 1_068_132
# 1 000 000 × 243 / 273 = 890 109.89 -> 890 110 (half up); min(1 068 132, 890 110, 3 000 000)
CERTIFICATE_PART = 890_110
FAMILY_PART = 178_022  # 1 068 132 − 890 110
# 890 110 = 8 × 111 263 + 6 ; 178 022 = 8 × 22 252 + 6
CERTIFICATE_INSTALMENTS = [111_269] + [111_263] * 7
FAMILY_INSTALMENTS = [22_258] + [22_252] * 7
MONTHS = [date(2026, m, 1) for m in (10, 11, 12)] + [date(2027, m, 1) for m in (1, 2, 3, 4, 5)]
