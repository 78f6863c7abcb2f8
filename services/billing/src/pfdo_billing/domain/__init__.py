"""Billing domain: pure money rules, no I/O (docs/domain-rules.md, from "Periods and nominal"
to "Late adjustments").

- ``money``: kopeck arithmetic (pro-rating, instalments, attendance share, percentages);
- ``calendar``: inclusive day counts, months, program periods, ages;
- ``payment_mode``: monthly / attendance;
- ``quote``: cost of an enrolment to the certificate and the family, with its schedule;
- ``due``: what a contract-month owes and the month close result;
- ``late_adjustment``: a closed month billed again after a dispute;
- ``termination``: early end, cancellation, expiry at 18;
- ``nominal``: pro-rata nominal and age groups;
- ``agreements``: agreements between a provider and a payer, their yearly limit and statuses;
- ``reservation``: the reservation decision (no agreement, over its limit, caps, the quote);
- ``payment_orders``: advances and final settlements to providers, per payer;
- ``treasury``: the treasury's statuses of a payment order (issued → accepted → paid | returned);
- ``ledger_model`` / ``ledger_decisions``: the double-entry ledger's accounts and operations, and
  the pure decisions (entries, refusals, the two-phase rule) production and the spec share;
- ``ledger`` / ``ledger_invariants``: the in-memory ledger (the executable spec) and its invariants;
- ``errors``: domain errors with machine-readable codes.
"""
