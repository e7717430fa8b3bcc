"""Opioid safety: CDC 2022 Recommendation 11 (opioids with benzodiazepines or other CNS depressants),
as the CDC opioid CDS implementation guide computes it, on the same rule engine as the LDN rules."""

from .chart import Chart, ChartError, read_chart
from .pack import OpioidSafety, PackEvaluation, flatten

__all__ = ["Chart", "ChartError", "OpioidSafety", "PackEvaluation", "flatten", "read_chart"]
