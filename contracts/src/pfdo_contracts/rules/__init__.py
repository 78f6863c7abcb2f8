"""Domain rules that more than one service applies to the contracts' data, each in one home.

Pure functions of plain values (no I/O, no clock), so that every service computes them the same
way; rules that set-based SQL applies too have their SQL twin beside them. One module per rule;
the rules themselves are written down in docs/domain-rules.md. The one dependency beyond the
standard library is the ``holidays`` library, the data of the production calendar.
"""
