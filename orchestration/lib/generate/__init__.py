"""Synthetic CSWW returns calibrated to DfE's published figures (`workforce generate`).

release -> imputation (fill what DfE suppressed) -> calibration (exact totals per return) ->
population (people carried across years and councils) -> roster (one return's records) ->
writer (XML) -> landing (never overwrite a file we did not write). See run.py for the flow.
"""

from orchestration.lib.generate.run import GenerationSummary, generate_returns

__all__ = ["GenerationSummary", "generate_returns"]
