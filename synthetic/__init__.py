"""Synthetic CSWW returns calibrated to DfE's published figures (`workforce generate`).

release -> imputation (fill what DfE suppressed) -> calibration (exact totals per return) ->
group_fitting (those totals moved inside their rounding so that DfE's regional and England totals
are sums of them; group_checks says which can be, group_exceptions lists the rest) ->
population (people carried across years and councils) -> roster (one return's records) ->
writer (XML) -> landing (never overwrite a file we did not write). See run.py for the flow.
"""

from synthetic.run import GenerationRefused, GenerationSummary, generate_returns

__all__ = ["GenerationRefused", "GenerationSummary", "generate_returns"]
