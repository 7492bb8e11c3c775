"""The README quotes the quick scorecard's verdict counts by hand; they must be the committed scorecard's."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERDICT_COUNTS_IN_README = re.compile(
    r"the\s+scorecard\s+has\s+(\d+)\s+rows\s+reproduced,\s+(\d+)\s+not\s+reproduced,\s+(\d+)\s+inconclusive"
    r"\s+and\s+(\d+)\s+not\s+run"
)
VERDICT_COUNTS_IN_SCORECARD = re.compile(
    r"^Rows: reproduced: (\d+), not reproduced: (\d+), inconclusive: (\d+), not run: (\d+);", re.MULTILINE
)


def test_readme_quotes_the_quick_scorecards_verdict_counts() -> None:
    quoted = VERDICT_COUNTS_IN_README.findall((REPO / "README.md").read_text())
    counted = VERDICT_COUNTS_IN_SCORECARD.findall((REPO / "results" / "SCORECARD.md").read_text())
    assert len(quoted) == 1, "README should quote the quick scorecard's verdict counts once"
    assert len(counted) == 1, "results/SCORECARD.md has no 'Rows:' line of verdict counts"
    assert quoted[0] == counted[0]
