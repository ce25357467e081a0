"""``kpitrack.settings`` for the deploy test's ``collectstatic``: the same settings, with plotly's package directory
(31 MB of datasets, widget bundle and templates, compressed one by one) cut to the one file the pages load,
``plotly.min.js``, linked from the directory named by ``KPITRACK_TEST_PLOTLY_DIR``. gunicorn then serves the collected
files with ``kpitrack.settings`` itself."""

from __future__ import annotations

import os
from pathlib import Path

from kpitrack.settings import *  # noqa: F403
from kpitrack.settings import STATICFILES_DIRS

STATICFILES_DIRS = [
    entry
    if not (isinstance(entry, tuple) and entry[0] == "vendor/plotly")
    else ("vendor/plotly", Path(os.environ["KPITRACK_TEST_PLOTLY_DIR"]))
    for entry in STATICFILES_DIRS
]
