"""docs/architecture.md is the page a newcomer reads first: every file it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
PACKAGES = "data|features|models|training|serving|leadscore|tests|bench"


def test_every_file_and_folder_the_page_names_exists() -> None:
    text = PAGE.read_text()
    files = set(re.findall(rf"`((?:{PACKAGES})/[\w/.]+?\.py)", text))
    folders = set(re.findall(rf"`((?:{PACKAGES})/[\w/]*/)`", text))
    assert len(files) > 40 and len(folders) > 8
    assert sorted(p for p in files if not (ROOT / p).is_file()) == []
    assert sorted(p for p in folders if not (ROOT / p).is_dir()) == []


def test_every_package_has_its_line() -> None:
    text = PAGE.read_text()
    packages = [
        p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"
    ]
    assert sorted(p for p in packages if f"| `{p}/` |" not in text) == []
