"""A synthetic city for tests, demos and benchmarks: its people's pings, itineraries and registry
entries, an outbreak's cases and risk areas, written as the feed files of CONTRACTS.md.

``scenario.simulate_city`` runs it; ``paicha simulate`` is the command line.
"""

from __future__ import annotations

from paicha.simulate.scenario import FEED_FILES, SimulationConfig, SimulationError, simulate_city
from paicha.simulate.writer import FileSummary

__all__ = ["FEED_FILES", "FileSummary", "SimulationConfig", "SimulationError", "simulate_city"]
