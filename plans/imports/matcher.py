"""Match a KPI name as a branch wrote it to the catalog."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from plans.rules import normalize_text, strip_list_markers

#: A name this similar to a catalog name or alias (difflib ratio) is the same KPI.
SIMILARITY_THRESHOLD = 0.9
#: Shorter aliases are only matched exactly: "割合" alone names no KPI.
MIN_ALIAS_LENGTH = 4

_NOISE = re.compile(r"[【】■●◆◇ⒶⒷⒸ・:：,、。\"'「」『』]|KPI|\(累計\)|\(単月\)|\(※[0-9]*\)|※[0-9]*$")
#: A contained catalog name must cover this share of the name as written ("…の割合" inside a longer qualifier).
CONTAINMENT_SHARE = 0.6


def name_key(text: str) -> str:
    """A name folded for comparison: list markers, spaces, width, punctuation and brackets' style dropped."""
    folded = normalize_text(strip_list_markers(text))
    return _NOISE.sub("", folded)


@dataclass
class KpiMatcher:
    """Catalog codes by their names and aliases (folded with ``name_key``)."""

    names: dict[str, str] = field(default_factory=dict)  # key → code

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> KpiMatcher:
        matcher = cls()
        for code, name in pairs:
            key = name_key(name)
            if len(key) >= MIN_ALIAS_LENGTH:
                matcher.names.setdefault(key, code)
        return matcher

    def match(self, name: str) -> str | None:
        """The catalog code of a KPI name, or None when no name is close enough (never a guess)."""
        key = name_key(name)
        if not key:
            return None
        if key in self.names:
            return self.names[key]
        bare = _without_brackets(key)
        if bare in self.names:
            return self.names[bare]
        best, best_ratio = None, 0.0
        for alias, code in self.names.items():
            ratio = SequenceMatcher(None, key, alias, autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_ratio = code, ratio
        if best_ratio >= SIMILARITY_THRESHOLD:
            return best
        contained = self.find(key)
        if len({code for _, _, code in contained}) == 1:
            start, end, code = contained[0]
            if (end - start) >= CONTAINMENT_SHARE * len(key):
                return code
        return None

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Catalog names contained in folded ``text``: (start, end, code), longest first, not overlapping."""
        found: list[tuple[int, int, str]] = []
        taken: list[tuple[int, int]] = []
        for alias in sorted(self.names, key=len, reverse=True):
            start = text.find(alias)
            while start >= 0:
                end = start + len(alias)
                if not any(start < t_end and t_start < end for t_start, t_end in taken):
                    found.append((start, end, self.names[alias]))
                    taken.append((start, end))
                start = text.find(alias, end)
        return sorted(found)


def _without_brackets(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\([^()]*\)", "", text)
    return text


def seed_aliases(seed_dir: Path) -> list[tuple[str, str]]:
    """(code, name) pairs from the seed fixtures: every name a branch printed for a catalog KPI."""
    pairs: list[tuple[str, str]] = []
    for path in sorted(seed_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for kpi in data.get("kpis") or []:
            pairs.append((kpi["code"], kpi["name"]))
        for kpi in data.get("catalog_additions") or []:
            pairs.append((kpi["code"], kpi["name"]))
        for change in data.get("lineage") or []:
            if change.get("previous_name"):
                pairs.append((change["kpi"], change["previous_name"]))
        for plan in data.get("plans") or []:
            for target in plan.get("kpis") or []:
                if target.get("name"):
                    pairs.append((target["kpi"], target["name"]))
    return pairs
