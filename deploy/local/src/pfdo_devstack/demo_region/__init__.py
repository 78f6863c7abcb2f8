"""Deterministic synthetic data for demos, tests and benchmarks (pure, no I/O)."""

from .generator import (
    SIZES,
    DemoChild,
    DemoMunicipality,
    DemoProgram,
    DemoProvider,
    DemoRegion,
    RegionSize,
    generate_region,
)

__all__ = [
    "SIZES",
    "DemoChild",
    "DemoMunicipality",
    "DemoProgram",
    "DemoProvider",
    "DemoRegion",
    "RegionSize",
    "generate_region",
]
