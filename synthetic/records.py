"""What one worker-role record of a synthetic return is: its category and its columns."""

from __future__ import annotations

import numpy as np

from synthetic.posts import POST_COLUMNS

STAYER, STARTER, STARTER_LEAVER, LEAVER, AGENCY = 1, 2, 3, 4, 5
STAFF_IN_POST = (STAYER, STARTER)
"""The council's own social workers in post at the census."""
IN_POST = (*STAFF_IN_POST, AGENCY)
RECORD_COLUMNS: dict[str, type] = {
    **POST_COLUMNS,
    "category": np.int8,
    "fte": np.int64,
    "case_holder": np.bool_,
    "cases": np.int32,
    "days_lost": np.int64,
    "absent": np.int8,
    "absence_reason": np.int8,
    "weeks": np.int32,
    "cfkss": np.int8,
    "salary": np.int64,
    "retention_pay": np.int64,
    "other_pay": np.int64,
}
"""Per record: FTE in millionths, days lost in hundredths, contract weeks in tenths, pay in pence;
absence_reason and cfkss are 1-based positions in their spec code lists (0: none)."""
