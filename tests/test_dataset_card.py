"""DATASET.md's generated blocks are what the shipped data gives now: a record shipped (or a table generator changed)
without rewriting the card would leave the card stating numbers the data no longer holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def test_the_cards_generated_blocks_are_current(tmp_path):
    card = tmp_path / "DATASET.md"
    shutil.copy(ROOT / "DATASET.md", card)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "update-dataset-card.py"), "--card", str(card)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    stale = [a for a, b in zip((ROOT / "DATASET.md").read_text().splitlines(), card.read_text().splitlines()) if a != b]
    assert card.read_text() == (ROOT / "DATASET.md").read_text(), (
        "DATASET.md is stale: run python scripts/update-dataset-card.py; first differing lines:\n"
        + "\n".join(stale[:3]))
    assert list(tmp_path.iterdir()) == [card]  # it wrote nothing else


def test_the_cards_tables_are_whole():
    """A document's table is never cut at the report's 25 rows (the reproduction table has 39)."""
    text = (ROOT / "DATASET.md").read_text()
    block = text[text.index("<!-- BEGIN reproduction -->"):text.index("<!-- END reproduction -->")]
    rows = [line for line in block.splitlines() if line.startswith("| ")]
    shipped = pd.read_csv(ROOT / "analognasbench" / "fidelity" / "reproduce-paper-original.csv")
    assert len(rows) - 1 == len(shipped)  # less the header row
