"""The `>>>` examples of README.md and of every page of docs/ run, as
written.

A page whose example no longer matches the code fails here, so the docs
cannot drift from the API. Each page is one test: its examples share their
names, as a reader's session would.
"""

import doctest
import pathlib
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def test_the_docs_folder_has_its_pages():
    names = {p.name for p in PAGES}
    assert {"search_space.md", "strategies.md", "budgets.md",
            "reliability.md", "engines.md", "export.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_examples(page, tmp_path, monkeypatch):
    # The examples make their folders with `tempfile.mkdtemp()`; here those
    # land in pytest's tmp_path, and a relative path lands there too.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(
        str(page), module_relative=False, report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{page.name} has no >>> example"
    assert result.failed == 0
