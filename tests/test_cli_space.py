"""``anb space`` through the real console entry point."""

from __future__ import annotations

import json
import subprocess
import sys

from analognasbench.cli import main


def test_anb_space_prints_counts_and_every_encoding(capsys):
    assert main(["space", "210210"]) == 0
    out = capsys.readouterr().out
    for text in ("15,625", "6,466", "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|",
                 "6930", "(2, 1, 0, 2, 1, 0)"):
        assert text in out


def test_anb_space_json_round_trips_the_encodings():
    proc = subprocess.run([sys.executable, "-m", "analognasbench", "space", "6930", "--json"],
                          capture_output=True, text=True, check=True)
    info = json.loads(proc.stdout)
    assert info["tuple"] == [2, 1, 0, 2, 1, 0] and info["short"] == "210210" and info["classes"] == 6466


def test_anb_space_bad_architecture_is_a_clear_error_not_a_traceback(capsys):
    assert main(["space", "(9, 1)"]) == 2
    err = capsys.readouterr().err
    assert "6 edges" in err and "Traceback" not in err
