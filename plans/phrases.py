"""How kpitrack reads a target phrase, for people: the one reading every page shows while a phrase is typed.

``read_phrase`` wraps ``plans.rules.parse_target`` for the plan import's review, the plan edit page and their one
JSON endpoint (``plans.views.phrases.parse_target``, url name ``parse_target``): the rule and its figures in words,
or the Japanese reason the phrase cannot be read. It touches no database and no request; what it reads is what the
write paths (``KpiTarget.apply_target_text`` through ``plans.planning`` and ``plans.imports.save``) store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from plans import fiscal, rules
from plans.models import KpiTarget

#: The longest phrase a target may hold (the model field's length).
PHRASE_LIMIT: int = KpiTarget._meta.get_field("target_text").max_length or 200

# Messages (module constants: tests assert the exact text).
PHRASE_TOO_LONG = gettext_noop("目標は{limit}文字以内で入力してください（{length}文字）。")
PHRASE_KPI_DELETED = gettext_noop(
    "目標に「{typed}」とは入力できません（KPIの削除は目標ではありません）。この年度にKPIを削除するときは、"
    "計画の編集では目標の行の「計画から外す」で「削除」として記録し、計画の読み込みではその行を除外してください。"
)
SUMMARY_EMPTY = gettext_noop("目標なし（空欄です。あとで入力できます）")
SUMMARY_NONE = gettext_noop("設定なし（目標はありません）")
SUMMARY_VALUE = gettext_noop("{label}・目標値 {value}{unit}")
SUMMARY_BASELINE = gettext_noop("{label}・基準値 {value}{unit}")
SUMMARY_NAMED_YEAR = gettext_noop("{label}・{year}年度の実績が基準")

RULE_LABELS: dict[str, str] = dict(KpiTarget.RuleChoice.choices)


@dataclass(frozen=True, slots=True)
class PhraseReading:
    """A target phrase as kpitrack reads it: a rule in words, or why it cannot be read.

    ``ok`` is False only with ``error`` (the whole message, naming the phrase). An empty phrase is ``ok`` with no
    ``kind``: no rule and no error (the target is filled in later). ``deleted``: the phrase is 「※KPIは削除」.
    """

    ok: bool
    kind: str | None = None  # a ``RuleKind`` value
    label: str = ""  # the rule's name: 固定値以上, 対前年度以上, …
    summary: str = ""  # the rule with its figures in words: 「固定値以上・目標値 65.0%」
    value: Decimal | None = None
    baseline: Decimal | None = None
    unit: str = ""
    error: str | None = None
    deleted: bool = False

    def as_json(self) -> dict[str, Any]:
        """The endpoint's answer: figures as strings as written (「93.3」), absent ones as None."""
        return {
            "ok": self.ok,
            "kind": self.kind,
            "label": self.label,
            "summary": self.summary,
            "value": None if self.value is None else str(self.value),
            "baseline": None if self.baseline is None else str(self.baseline),
            "unit": self.unit,
            "error": self.error,
            "deleted": self.deleted,
        }


def read_phrase(text: str, fiscal_year: int | None) -> PhraseReading:
    """Read ``text`` as a target of a plan of ``fiscal_year`` (None: no year to check a named year against).

    Surrounding spaces are ignored. Longer than ``PHRASE_LIMIT`` is refused (the field cannot hold it); 「※KPIは削除」
    is refused with ``PHRASE_KPI_DELETED`` (``deleted`` set): a deleted KPI has no target, its deletion is recorded.
    """
    phrase = text.strip()
    if len(phrase) > PHRASE_LIMIT:
        return PhraseReading(ok=False, error=_(PHRASE_TOO_LONG).format(limit=PHRASE_LIMIT, length=len(phrase)))
    if not phrase:
        return PhraseReading(ok=True, summary=_(SUMMARY_EMPTY))
    try:
        rule = rules.parse_target(phrase, fiscal_year=fiscal_year)
    except rules.KpiDeleted:
        return PhraseReading(ok=False, error=_(PHRASE_KPI_DELETED).format(typed=phrase), deleted=True)
    except rules.TargetParseError as exc:
        return PhraseReading(ok=False, error=str(exc))
    label = str(RULE_LABELS[rule.kind.value])
    return PhraseReading(
        ok=True,
        kind=rule.kind.value,
        label=label,
        summary=_summary(rule, label),
        value=rule.value,
        baseline=rule.baseline,
        unit=rule.unit,
    )


def _summary(rule: rules.TargetRule, label: str) -> str:
    if rule.kind == rules.RuleKind.NONE:
        return _(SUMMARY_NONE)
    if rule.value is not None:
        return _(SUMMARY_VALUE).format(label=label, value=rule.value, unit=rule.unit)
    if rule.baseline is not None:
        return _(SUMMARY_BASELINE).format(label=label, value=rule.baseline, unit=rule.unit)
    if rule.baseline_year is not None:
        year = fiscal.reiwa_label(rule.baseline_year).removesuffix("年度")
        return _(SUMMARY_NAMED_YEAR).format(label=label, year=year)
    return label
