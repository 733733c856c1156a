"""`live verify FILE [--receipt CODE]` in its own process, as anyone with a downloaded
bulletin runs it: no settings, no store."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_bulletin import TAMPERING, resign, single_bulletin


def verify(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "live", "verify", str(path), *args],
        env={"PATH": "/usr/bin:/bin"},  # nothing of the server's: anyone can run it
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def saved(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "bulletin-ABCD.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def test_an_untouched_bulletin_verifies_and_prints_the_tally(tmp_path: Path) -> None:
    done = verify(saved(tmp_path, single_bulletin()))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Finalen «2026»" in done.stdout
    assert "counted ballots: 4, excluded: 1" in done.stdout
    lines = done.stdout.splitlines()
    assert "    1       2  Alfa" in lines and "    2       1  Bravo" in lines
    assert "Winners: Alfa" in lines
    assert "Verified: the digest matches" in done.stdout


@pytest.mark.parametrize("name", TAMPERING)
def test_a_tampered_bulletin_fails_with_its_reason(tmp_path: Path, name: str) -> None:
    change: Callable[[dict[str, Any]], None]
    change, reason = TAMPERING[name]
    document = single_bulletin()
    change(document)
    done = verify(saved(tmp_path, document))
    assert done.returncode == 1
    assert "NOT VERIFIED" in done.stdout and "The digest does not match" in done.stdout
    forged = verify(saved(tmp_path, resign(document)))
    assert forged.returncode == 1 and reason in forged.stdout, forged.stdout


def test_a_wrong_digest_fails(tmp_path: Path) -> None:
    document = single_bulletin()
    document["digest"] = "sha256:" + "f" * 64
    done = verify(saved(tmp_path, document))
    assert done.returncode == 1 and "The digest does not match the contents" in done.stdout


def test_the_receipt_is_found_or_not(tmp_path: Path) -> None:
    path = saved(tmp_path, single_bulletin())
    found = verify(path, "--receipt", "aaaa-1111")
    assert found.returncode == 0
    assert "Receipt AAAA-1111 is among the counted ballots: Alfa." in found.stdout
    apart = verify(path, "--receipt", "ZZZZ-9999")
    assert apart.returncode == 0 and "among the excluded ballots (decision 3)" in apart.stdout
    absent = verify(path, "--receipt", "XXXX-0000")
    assert absent.returncode == 1 and "Receipt XXXX-0000 is NOT in this bulletin." in absent.stdout


def test_an_unreadable_file_exits_2(tmp_path: Path) -> None:
    missing = verify(tmp_path / "none.json")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff{not json")
    assert verify(garbage).returncode == 2
    other = saved(tmp_path, {"format": "something else"})
    done = verify(other)
    assert done.returncode == 2 and "not a readable bulletin" in done.stderr
