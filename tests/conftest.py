"""Fixtures shared by the command-line tests."""

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
