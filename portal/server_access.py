"""The data-sharing agreement on the warehouse server: whose provisional rows each council may read.

The server's row policies (orchestration/lib/server/access.py) decide from two tables, written
here in one transaction from the agreement and the published version, with the very rule the
pages apply (`figures.Viewer.may_see_provisional`), so the database and the portal cannot
disagree. Run `workforce server access` after each publish and after the agreement changes (a
council joining, leaving or changing what it shares); until then the server keeps the previous
answer, and a year it does not yet know DfE has published stays restricted.
"""

from __future__ import annotations

import datetime as dt

from portal import adapter, figures
from portal.agreement import Agreement


def provisional_viewers(agreement: Agreement, facts: figures.Facts, day: dt.date | None = None) -> set[tuple[str, str]]:
    """(owner, viewer) pairs: the viewer council's users may see the owner unit's provisional figures."""
    pairs = set()
    for viewer_code in agreement.participants:
        if agreement.participant(viewer_code, day) is None:
            continue
        viewer = figures.Viewer(agreement, viewer_code, facts)
        pairs.update((owner, viewer_code) for owner in facts.councils if viewer.may_see_provisional(owner))
    return pairs


def sync(url: str, agreement: Agreement) -> tuple[int, int]:
    """Write the agreement's sharing and the published version's DfE years; (pairs, years) written."""
    reader = adapter.PublishedReader()
    try:
        with reader.cursor() as (_, cur):
            facts = figures.facts(cur)
    finally:
        reader.close()
    pairs = provisional_viewers(agreement, facts)
    adapter.write_server_sharing(url, pairs, facts.dfe_years)
    return len(pairs), len(facts.dfe_years)
