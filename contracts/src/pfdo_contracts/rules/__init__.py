"""Domain rules that more than one service applies to the contracts' data, each in one home.

Pure functions of plain values (no I/O, no clock, no dependencies beyond the standard library),
so that every service computes them the same way. One module per rule.
"""
