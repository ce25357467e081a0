# Shared by scripts/run.sh and scripts/test.sh: make .venv with Python 3.11 and install kpitrack into it.
# The install is skipped when .venv already holds this pyproject.toml with this extra (a stamp file records it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extra="${1:-}"
if [ ! -x .venv/bin/python ]; then
  py="${PYTHON:-}"
  if [ -z "$py" ]; then
    for candidate in python3.11 python3 python; do
      if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
    done
  fi
  "$py" -c 'import sys; assert sys.version_info >= (3, 11), "kpitrack needs Python 3.11 or newer"'
  "$py" -m venv .venv
fi
stamp=".venv/.kpitrack-installed${extra:+-${extra//[^a-z]/}}"
wanted="$(.venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra}"
  echo "$wanted" >"$stamp"
fi
