"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cwd(tmp_path, monkeypatch) -> Path:
    """An empty working directory (commands that write into the cwd by mistake show up here)."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture(scope="module")
def small():
    """A search table of 496 classes (cells built from skip, 3x3 and 1x1 convs), smooth, nearly noise-free
    repetitions."""
    from analognasbench.search import TabularEvaluator
    from analognasbench.search.synthetic import classes_with_ops, synthetic_frame

    return TabularEvaluator(synthetic_frame(seed=3, noise_std=0.05, classes=classes_with_ops((0, 2, 3))))
