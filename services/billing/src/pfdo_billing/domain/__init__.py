"""Billing domain: pure money rules, no I/O (DESIGN §2 "Periods, nominal, balances",
"Enrolment and money").

- ``money``: kopeck arithmetic (pro-rating, instalments, attendance share, percentages);
- ``calendar``: inclusive day counts, months, program periods, ages;
- ``payment_mode``: monthly / attendance;
- ``quote``: cost of an enrolment to the certificate and the family, with its schedule;
- ``due``: what a contract-month owes and the month close result;
- ``late_adjustment``: a closed month billed again after a dispute;
- ``termination``: early end, cancellation, expiry at 18;
- ``nominal``: pro-rata nominal and age groups;
- ``payment_orders``: advances and final settlements to providers;
- ``ledger`` / ``ledger_invariants``: the double-entry ledger model and its invariants;
- ``errors``: domain errors with machine-readable codes.
"""
