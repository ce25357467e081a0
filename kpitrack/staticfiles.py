"""plotly.js served locally (no CDN): the one file the pages load, taken from the installed plotly package.

The package's directory also holds 31 MB of datasets, a widget bundle and templates; a finder for the whole directory
would make ``collectstatic`` copy (and, in production, compress) all of it. ``PlotlyFinder`` finds only
``vendor/plotly/plotly.min.js``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"
PREFIX = "vendor/plotly"
FILE = "plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Finds ``vendor/plotly/plotly.min.js`` in the plotly package, and nothing else."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=PLOTLY_DIR)
        self.storage.prefix = PREFIX  # type: ignore[attr-defined]  # collectstatic puts the file under it

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str]:
        if path == f"{PREFIX}/{FILE}" and (PLOTLY_DIR / FILE).is_file():
            found = str(PLOTLY_DIR / FILE)
            return [found] if find_all else found
        return []

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        if (PLOTLY_DIR / FILE).is_file():
            yield FILE, self.storage
