"""Target rules (目標), marks (◎ ○ △) and mid-year projections (見込み).

Pure, typed Python with no Django imports: forms, imports, exports and dashboards all judge through
this module, so every mark kpitrack shows comes from one place.

Marks follow the Tochigi legend:
    ◎ 計画を上回る実施状況 (above plan)   ○ 計画どおりの実施状況 (as planned)
    △ 計画を下回る実施状況 (below plan)
A fixed target beaten outright is ◎, met exactly is ○, missed is △. A year-over-year target met (or
beaten) is ○ and missed is △. A qualitative KPI done is ○. Figures are compared at the KPI's
published precision, rounded half up (四捨五入) once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from plans.fiscal import MONTHS_IN_YEAR


class RuleKind(StrEnum):
    FIXED_MIN = "fixed_min"  # 71.7％以上
    FIXED_MAX = "fixed_max"  # 20％以下, 7日以内
    EXACT = "exact"  # 100％とする
    YOY_MIN = "yoy_min"  # 対前年度以上
    YOY_MAX = "yoy_max"  # 対前年度以下
    DONE = "done"  # 実施, 関係機関への働きかけ
    FREQUENCY = "frequency"  # 毎月, 月に1回以上
    NONE = "none"  # 設定なし, －


class Mark(StrEnum):
    """評価: the mark a KPI earns at year end. Everything that shows or stores a mark derives from here."""

    ABOVE = "◎"
    AS_PLANNED = "○"
    BELOW = "△"

    @property
    def label(self) -> str:
        """The legend's wording: 計画を上回る実施状況 …"""
        return _MARK_TEXT[self][0]

    @property
    def short_label(self) -> str:
        """計画を上回る / 計画どおり / 計画を下回る."""
        return _MARK_TEXT[self][1]

    @property
    def rank(self) -> int:
        """For sorting: ◎ 3, ○ 2, △ 1 (not judged is ``NOT_JUDGED_RANK``)."""
        return _MARK_TEXT[self][2]

    @property
    def css(self) -> str:
        """The CSS name used by every page: ``mark-above`` / ``mark-planned`` / ``mark-below``."""
        return f"mark-{_MARK_TEXT[self][3]}"

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """Choices for model and form fields: ("◎", "◎ 計画を上回る") …"""
        return [(mark.value, f"{mark.value} {mark.short_label}") for mark in cls]


def gettext_noop(message: str) -> str:
    """Marks a label for translation (``makemessages`` collects it) without importing Django here;
    templates translate it when they show it (``{% translate mark.label %}``)."""
    return message


_MARK_TEXT: dict[str, tuple[str, str, int, str]] = {
    "◎": (gettext_noop("計画を上回る実施状況"), gettext_noop("計画を上回る"), 3, "above"),
    "○": (gettext_noop("計画どおりの実施状況"), gettext_noop("計画どおり"), 2, "planned"),
    "△": (gettext_noop("計画を下回る実施状況"), gettext_noop("計画を下回る"), 1, "below"),
}
#: How a KPI without a mark (no year-end actual yet) is written, labelled, ranked and styled.
NOT_JUDGED = "－"
NOT_JUDGED_LABEL = gettext_noop("未評価（年度末実績なし）")
NOT_JUDGED_RANK = 0
NOT_JUDGED_CSS = "mark-none"


def mark_rank(mark: Mark | None) -> int:
    return mark.rank if mark is not None else NOT_JUDGED_RANK


def mark_css(mark: Mark | None) -> str:
    return mark.css if mark is not None else NOT_JUDGED_CSS

#: Units a target may carry, longest first so 事業所 wins over a shorter unit.
UNITS: tuple[str, ...] = ("事業所", "円", "日", "件", "人", "回", "%")

YOY_KINDS = frozenset({RuleKind.YOY_MIN, RuleKind.YOY_MAX})
FIXED_KINDS = frozenset({RuleKind.FIXED_MIN, RuleKind.FIXED_MAX, RuleKind.EXACT})


class TargetParseError(ValueError):
    """A target phrase kpitrack cannot read. It names the phrase; the parser never guesses."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"目標「{text}」を読み取れません: {reason}")


@dataclass(frozen=True, slots=True)
class TargetRule:
    """A parsed KPI target. ``text`` keeps the phrase exactly as written."""

    kind: RuleKind
    text: str
    value: Decimal | None = None
    baseline: Decimal | None = None
    unit: str = ""
    #: The year a year-over-year rule names (「令和5年度実績以上」 → 2023); None for 「対前年度以上」.
    baseline_year: int | None = None

    @property
    def is_yoy(self) -> bool:
        return self.kind in YOY_KINDS



# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------

#: Why a phrase is refused (``TargetParseError.reason``); module constants so tests assert the exact text.
REASON_TWO_TARGETS = "複数の目標が書かれています"  # tests/test_models.py asserts this exact text
REASON_MARKER_INSIDE = "番号記号（①・⑴ など）が目標の途中にあり、数値の一部か判断できません"
REASON_SPACED_DIGITS = "数字の間に空白があり、1つの数値か判断できません"
REASON_KPI_DELETED = "このKPIは今年度削除されています（目標はありません）"
REASON_NOT_LAST_YEAR = "基準の年度（{named}年度）が前年度（{previous}年度）ではありません"


class KpiDeleted(TargetParseError):
    """「※KPIは削除」: the KPI is dropped this year, so it has no target.

    A ``TargetParseError`` on purpose: a caller that does not know about deleted KPIs refuses the phrase
    instead of storing "no target"; the plan importer catches it and lists the KPI as deleted.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text, REASON_KPI_DELETED)


_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_UNIT = "|".join(re.escape(u) for u in UNITS)
_THOUSANDS = re.compile(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?:とする|とします|を目指す|を目標とする|を維持する|を行う)?[。.]?$")
# Footnote markers inside a phrase ("2,900事業所（※）以上") and remarks after it ("…とする（令和６年度新設）").
_FOOTNOTE = re.compile(r"\(※[0-9]*\)|※[0-9]*(?=以上|以下|以内)")
# Footnote marks after the target: "71.7％以上※", "…以上とする※1", "（※2）", a ※ on the next line.
_TRAILING_FOOTNOTE = re.compile(r"(?:\(※[0-9]*\)|※[0-9]*|\*[0-9]*)+$")
_TRAILING_REMARK = re.compile(r"(?:\([^()]*\))+[。.]?$")

_NO_TARGET = frozenset({"", "-", "ー", "―", "‐", "−", "設定なし", "なし", "目標設定なし", "対象外"})
_DELETED = re.compile(r"\(?[※*]?(?:本?KPIは?)?削除(?:する|します|された|済み?)?\)?[。.]?")

_YOY = re.compile(
    rf"(?:年度末時点で)?対?前年度末?(?:実績)?(?:\((?P<base>{_NUMBER})(?P<bunit>{_UNIT})?\))?"
    rf"(?P<op>以上|以下)$"
)
# 「令和5年度実績以上」: a year-over-year rule naming its baseline year (令和元年度 = 2019).
_NAMED_YEAR_YOY = re.compile(
    rf"対?(?:(?:令和|R)(?P<reiwa>[0-9]{{1,2}}|元)|(?P<western>20[0-9]{{2}}))年度末?実績値?"
    rf"(?:\((?P<base>{_NUMBER})(?P<bunit>{_UNIT})?\))?(?P<op>以上|以下)$"
)
_REIWA_OFFSET = 2018
_FIXED = re.compile(rf"(?P<num>{_NUMBER})(?P<unit>{_UNIT})?(?P<op>以上|以下|以内)$")
_EXACT = re.compile(rf"(?P<num>{_NUMBER})(?P<unit>{_UNIT})?$")
_FREQUENCY = re.compile(r"(?:毎月(?:1回以上)?|月に?1回以上)(?:情報)?(?:実施|発信|配信)?(?:する)?$")
_DONE = re.compile(r"(?:実施|実施する|関係機関への働きかけ|働きかけ|働きかける)$")
# A second target in the name part: "・72.2%以上・委嘱事業所数対前年度以上", "…を2,000事業所以上とする 1,600事業所以上".
_RULE_IN_PREFIX = re.compile(
    rf"(?:{_NUMBER}(?:{_UNIT})?(?:以上|以下|以内)|{_NUMBER}(?:{_UNIT})|前年度末?(?:\([^)]*\))?(?:以上|以下))"
    r"(?:とする|とします|[・,、/。※]|$)"
)
# What may stand between a KPI name and its target in a sentence: "…を", "…について、", "…は".
_SEPARATORS = ("について、", "について", "を", "は", "、", ":")


_COMPARISON_IN_PREFIX = re.compile(rf"{_NUMBER}(?:{_UNIT})?(?:以上|以下|以内)")
_NAME_SPACE_NUMBER = re.compile(r"(?<=[^0-9\s.,、を:(])[ \t\u3000]+(?=[0-9])")

# List markers a row may start with, read BEFORE NFKC folds ① into 1: ① ❶ ⑴ ⒈ Ⅰ, (1) （１） (ア), 1) 1. ア ・.
_ENCLOSED = "\u2460-\u24ff\u2776-\u2793\u3251-\u325f\u3280-\u32bf\U0001f100-\U0001f10c"
_ROMAN = "\u2160-\u217f"
_DIGIT = "0-9\uff10-\uff19"
_LEADING_MARKER = re.compile(
    rf"^[\s\u3000]*(?:【KPI】|KPI[:：]"
    rf"|[{_ENCLOSED}{_ROMAN}]"
    rf"|[(（][{_DIGIT}]{{1,2}}[)）]"
    rf"|[(（][ア-ンｱ-ﾝ][)）]"
    rf"|[{_DIGIT}]{{1,2}}[)）]"
    rf"|[{_DIGIT}]{{1,2}}[.．](?![{_DIGIT}])"
    rf"|[ア-ン](?:[.．)）]|[\s\u3000]+)"
    r"|[・･•])"
)
_MARKER_INSIDE = re.compile(rf"[{_ENCLOSED}{_ROMAN}]")
# Superscript digits are footnote marks (71.7％以上¹), never part of the figure.
_SUPERSCRIPTS = str.maketrans(dict.fromkeys("⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉", "※"))
_SPACED_DIGITS = re.compile(r"[0-9][ \t\u3000\r\n]+[0-9.]|[0-9.][ \t\u3000\r\n]+[0-9]")


def strip_list_markers(text: str) -> str:
    """Remove the list markers a row starts with (「① 」「（１）」「1)」「ア 」「・」, 【KPI】), before any folding."""
    while match := _LEADING_MARKER.match(text):
        if not match.group(0).strip():
            break
        text = text[match.end() :]
    return text


def normalize_text(text: str, *, keep_name_break: bool = False) -> str:
    """Fold PDF text: full-width to half-width (NFKC), no spaces or line breaks, no thousands commas.

    With ``keep_name_break``, a space between a KPI name and the figure that follows it (a table row
    "健康宣言事業所数 1,570事業所以上") becomes 「、」 so the name stays apart from the target.
    """
    folded = unicodedata.normalize("NFKC", text)
    if keep_name_break:
        folded = _NAME_SPACE_NUMBER.sub("、", folded)
    folded = _SPACES.sub("", folded)
    folded = folded.replace("〇", "○")
    return _THOUSANDS.sub("", folded)


def _check_prefix(original: str, prefix: str) -> None:
    """The part before the target must be a KPI name, not another target or a stray fragment."""
    if not prefix:
        return
    if prefix.startswith("・") or _RULE_IN_PREFIX.search(prefix):
        raise TargetParseError(original, REASON_TWO_TARGETS)
    if not prefix.endswith(_SEPARATORS) and not prefix.endswith("で"):
        raise TargetParseError(original, "KPI名と目標の区切り（「を」「について、」）が見つかりません")


def _fold(original: str) -> str:
    """Markers stripped and checked on the raw text, then folded; refuses digits that could merge."""
    text = strip_list_markers(original).translate(_SUPERSCRIPTS)
    if _MARKER_INSIDE.search(text):
        raise TargetParseError(original, REASON_MARKER_INSIDE)
    if _SPACED_DIGITS.search(unicodedata.normalize("NFKC", text)):
        raise TargetParseError(original, REASON_SPACED_DIGITS)
    return normalize_text(text, keep_name_break=True)


def parse_target(text: str, *, fiscal_year: int | None = None) -> TargetRule:
    """Read a target as written, bare ("71.7％以上") or as a whole KPI sentence ("…を71.7％以上とする").

    Leading list markers (① （１） 1) ア ・) are dropped before full-width folding, footnote marks after
    the target (※, ※1, ¹) are ignored, and a phrase holding two targets is refused, so no digit outside
    the target figure can become part of a value. 「※KPIは削除」 raises ``KpiDeleted``. A year-over-year
    rule naming its year (「令和5年度実績以上」) keeps it in ``baseline_year``; with ``fiscal_year`` (the
    plan's year) a named year other than the previous one is refused.

    Raises ``TargetParseError`` naming the phrase for anything it cannot read.
    """
    if not isinstance(text, str):  # pragma: no cover - guarded by typing, kept for callers from JSON
        raise TargetParseError(str(text), "文字列ではありません")
    original = text
    folded = _fold(text)
    if folded in _NO_TARGET:
        return TargetRule(RuleKind.NONE, original)
    if _DELETED.fullmatch(folded):
        raise KpiDeleted(original)
    body = _FOOTNOTE.sub("", _TRAILING_FOOTNOTE.sub("", folded))
    remark = _TRAILING_REMARK.search(body)
    if remark and _FREQUENCY.fullmatch(remark.group(0).strip("()。.")):
        body = body[: remark.start()]  # 「毎月情報発信を行う（月に1回以上）」: the remark restates the rule
    elif remark and remark.start() > 0 and not (_YOY.search(body) or _NAMED_YEAR_YOY.search(body)):
        body = body[: remark.start()]
    body = _TRAILING_FOOTNOTE.sub("", _SENTENCE_END.sub("", body))
    if not body:
        raise TargetParseError(original, "目標が空です")

    if match := _YOY.search(body):
        _check_prefix(original, body[: match.start()])
        baseline = Decimal(match["base"]) if match["base"] else None
        kind = RuleKind.YOY_MIN if match["op"] == "以上" else RuleKind.YOY_MAX
        return TargetRule(kind, original, baseline=baseline, unit=match["bunit"] or "")

    if match := _NAMED_YEAR_YOY.search(body):
        _check_prefix(original, body[: match.start()])
        if match["western"]:
            named = int(match["western"])
        else:
            named = _REIWA_OFFSET + (1 if match["reiwa"] == "元" else int(match["reiwa"]))
        if fiscal_year is not None and named != fiscal_year - 1:
            raise TargetParseError(original, REASON_NOT_LAST_YEAR.format(named=named, previous=fiscal_year - 1))
        baseline = Decimal(match["base"]) if match["base"] else None
        kind = RuleKind.YOY_MIN if match["op"] == "以上" else RuleKind.YOY_MAX
        return TargetRule(kind, original, baseline=baseline, unit=match["bunit"] or "", baseline_year=named)

    if match := _FREQUENCY.search(body):
        _check_prefix(original, body[: match.start()])
        return TargetRule(RuleKind.FREQUENCY, original)

    if match := _FIXED.search(body):
        prefix = body[: match.start()]
        _check_prefix(original, prefix)
        kind = RuleKind.FIXED_MIN if match["op"] == "以上" else RuleKind.FIXED_MAX
        return TargetRule(kind, original, value=Decimal(match["num"]), unit=match["unit"] or "")

    if match := _EXACT.search(body):
        prefix = body[: match.start()]
        # A bare number is only a target with a unit ("100%") or after a separator ("…を100%とする").
        if not match["unit"] and not prefix:
            raise TargetParseError(original, "単位も条件（以上・以下）もない数値です")
        if prefix and prefix[-1].isdigit():
            raise TargetParseError(original, "数値の書き方が不正です")
        if not match["unit"] and _COMPARISON_IN_PREFIX.search(prefix):
            # 「0.00%以上(1) 2.」: a bare figure after a written target is a second figure, never the target.
            raise TargetParseError(original, REASON_TWO_TARGETS)
        _check_prefix(original, prefix)
        return TargetRule(RuleKind.EXACT, original, value=Decimal(match["num"]), unit=match["unit"] or "")

    if match := _DONE.search(body):
        _check_prefix(original, body[: match.start()] if match.start() else "")
        return TargetRule(RuleKind.DONE, original)

    raise TargetParseError(original, "以上・以下・以内・とする・対前年度・実施・毎月のいずれの形でもありません")


# --------------------------------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------------------------------

DONE_WORDS = frozenset({"実施", "実施済", "実施済み", "済", "達成", "○", "毎月実施"})
NOT_DONE_WORDS = frozenset({"未実施", "未達成", "×", "実施せず"})

Actual = Decimal | int | float | str | bool | None


def round_published(value: Decimal, precision: int | None) -> Decimal:
    """Round half up (四捨五入) to the KPI's published decimals; ``None`` leaves it as it is."""
    if precision is None:
        return value
    return value.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)


def to_decimal(value: Actual) -> Decimal | None:
    """A numeric actual as Decimal, or None when it is text (実施) or missing."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        return number if number.is_finite() else None
    text = normalize_text(value)
    for unit in UNITS:
        text = text.removesuffix(unit)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _judge_qualitative(actual: Actual) -> Mark | None:
    if isinstance(actual, bool):
        return Mark.AS_PLANNED if actual else Mark.BELOW
    if isinstance(actual, str):
        word = normalize_text(actual)
        if word in DONE_WORDS:
            return Mark.AS_PLANNED
        if word in NOT_DONE_WORDS:
            return Mark.BELOW
    return None


def judge(
    rule: TargetRule,
    actual: Actual,
    *,
    baseline: Actual = None,
    precision: int | None = None,
    direction: str | None = None,
) -> Mark | None:
    """The mark for a year-end actual against its rule, or None when there is nothing to judge yet.

    ``baseline`` is last year's year-end actual for a year-over-year rule; a baseline stated in the
    target phrase wins over it. ``precision`` is the KPI's published number of decimals. ``direction``
    ("higher" / "lower") only matters for an exact target ("100％とする"): reaching it, or passing it the
    good way, is as planned; without a direction only the exact value is.
    """
    if actual is None or actual == "" or rule.kind is RuleKind.NONE:
        return None
    if rule.kind is RuleKind.DONE:
        return _judge_qualitative(actual)
    if rule.kind is RuleKind.FREQUENCY:
        qualitative = _judge_qualitative(actual)
        if qualitative is not None:
            return qualitative
        months = to_decimal(actual)
        if months is None:
            return None
        return Mark.AS_PLANNED if months >= MONTHS_IN_YEAR else Mark.BELOW

    value = to_decimal(actual)
    if value is None:
        return None
    value = round_published(value, precision)

    if rule.kind in YOY_KINDS:
        reference = to_decimal(rule.baseline if rule.baseline is not None else baseline)
        if reference is None:
            return None
        reference = round_published(reference, precision)
        met = value >= reference if rule.kind is RuleKind.YOY_MIN else value <= reference
        return Mark.AS_PLANNED if met else Mark.BELOW

    assert rule.value is not None  # fixed kinds always carry a value
    target = rule.value
    if value == target:
        return Mark.AS_PLANNED
    if rule.kind is RuleKind.EXACT:
        passed = (direction == "higher" and value > target) or (direction == "lower" and value < target)
        return Mark.AS_PLANNED if passed else Mark.BELOW
    beaten = value > target if rule.kind is RuleKind.FIXED_MIN else value < target
    return Mark.ABOVE if beaten else Mark.BELOW


def reference_value(rule: TargetRule, baseline: Decimal | None = None) -> Decimal | None:
    """The figure an actual is held against: the fixed target, or the (stated) year-over-year baseline."""
    if rule.kind in FIXED_KINDS:
        return rule.value
    if rule.kind in YOY_KINDS:
        return rule.baseline if rule.baseline is not None else baseline
    return None


# --------------------------------------------------------------------------------------------------
# Mid-year projection (見込み) — never an official mark
# --------------------------------------------------------------------------------------------------


class Basis(StrEnum):
    """How a KPI's figures move through the year (see fixtures/seed/FORMAT.md)."""

    CUMULATIVE = "cumulative"  # grows from ~0 towards the year-end (健診実施率)
    YEAR_TO_DATE = "year_to_date"  # a ratio over the year so far, level (郵送化率)
    RUNNING_TOTAL = "running_total"  # a count standing at a date (健康宣言事業所数)
    SINGLE_MONTH = "single_month"  # the month's own value (ジェネリック 単月)
    LEVEL = "level"  # a level read as it stands, neither summed nor accumulated (加入者ひとり当たりの支給決定額)


#: Bases whose mid-year figure already reads like a year-end one: held, or moved by last year's drift.
LEVEL_BASES = frozenset({Basis.YEAR_TO_DATE, Basis.LEVEL, Basis.SINGLE_MONTH})
#: Kinds of rule a projection can say nothing about (no figure to reach).
UNPROJECTED_KINDS = frozenset({RuleKind.NONE, RuleKind.DONE, RuleKind.FREQUENCY})
#: A cumulative rate scaled by the months elapsed needs this many months: 2.0% in April is not 24% in March.
MIN_MONTHS_FOR_LINEAR = 3


class ProjectionMethod(StrEnum):
    LAST_YEAR_SHAPE = "last_year_shape"  # this year × (last year-end ÷ last year same month)
    LINEAR = "linear"  # cumulative figure scaled by 12 / months elapsed
    LAST_YEAR_DRIFT = "last_year_drift"  # level + (last year-end − last year same month)
    TREND = "trend"  # running total continued at this year's pace
    LEVEL = "level"  # the latest value held to year end


PROJECTION_METHOD_LABELS: dict[str, str] = {
    ProjectionMethod.LAST_YEAR_SHAPE: gettext_noop("前年度同月からの伸び率で推計"),
    ProjectionMethod.LINEAR: gettext_noop("経過月数で按分して推計"),
    ProjectionMethod.LAST_YEAR_DRIFT: gettext_noop("前年度同月からの変化幅で推計"),
    ProjectionMethod.TREND: gettext_noop("今年度のペースで推計"),
    ProjectionMethod.LEVEL: gettext_noop("直近値を年度末まで維持と仮定"),
}


@dataclass(frozen=True, slots=True)
class Projection:
    """A projected year-end value and what it would mean. Shown as 見込み, never as the mark."""

    value: Decimal
    method: ProjectionMethod
    months_elapsed: int
    mark_if_held: Mark | None

    @property
    def on_track(self) -> bool | None:
        if self.mark_if_held is None:
            return None
        return self.mark_if_held is not Mark.BELOW


def project_year_end(
    rule: TargetRule,
    *,
    basis: Basis | str,
    latest: Decimal,
    months_elapsed: int,
    last_year_same_month: Decimal | None = None,
    last_year_end: Decimal | None = None,
    baseline: Decimal | None = None,
    precision: int | None = None,
    direction: str | None = None,
    unit: str | None = None,
) -> Projection | None:
    """Project a mid-year actual to the year end and read it against the rule, or None where no method fits.

    By the KPI's measure basis:
    - cumulative (a rate growing from ~0, 健診実施率): last year's shape, this × last year-end ÷ last year's
      same month, when both are known (the way branches compare 中途実績 with last year's); else scaled by
      12 ÷ months elapsed, but only from ``MIN_MONTHS_FOR_LINEAR`` months on (None before);
    - running total (a count standing at a date, 健康宣言事業所数): this year's pace since last year-end
      continued to March; without last year's year-end there is no pace, so None (holding a growing
      count would call it short; inventing a pace would be a guess);
    - year-to-date ratio, level (加入者ひとり当たりの支給決定額) and single month: the figure reads as it
      stands: held, or moved by last year's change from the same month to year-end when both are known.
    A qualitative, frequency or no-target rule gets None. At month 12 the figure is the year-end one.
    Projected rates (unit %) stay within 0–100 and nothing goes below 0. ``unit`` is the KPI's unit;
    without it the unit written in the target is used. Callers pass no last-year figures when they are
    not comparable (a definition change this year).
    """
    if not 1 <= months_elapsed <= MONTHS_IN_YEAR:
        raise ValueError("months_elapsed must be between 1 and 12")
    basis = Basis(basis)
    if rule.kind in UNPROJECTED_KINDS:
        return None
    method: ProjectionMethod
    if months_elapsed == MONTHS_IN_YEAR:
        value, method = latest, ProjectionMethod.LEVEL
    elif basis is Basis.CUMULATIVE:
        if last_year_same_month and last_year_end is not None:
            value, method = latest * last_year_end / last_year_same_month, ProjectionMethod.LAST_YEAR_SHAPE
        elif months_elapsed >= MIN_MONTHS_FOR_LINEAR:
            value, method = latest * MONTHS_IN_YEAR / months_elapsed, ProjectionMethod.LINEAR
        else:
            return None
    elif basis is Basis.RUNNING_TOTAL:
        if last_year_end is None:
            return None
        pace = (latest - last_year_end) / months_elapsed
        value, method = latest + pace * (MONTHS_IN_YEAR - months_elapsed), ProjectionMethod.TREND
    elif last_year_same_month is not None and last_year_end is not None:
        value, method = latest + (last_year_end - last_year_same_month), ProjectionMethod.LAST_YEAR_DRIFT
    else:
        value, method = latest, ProjectionMethod.LEVEL
    value = max(value, Decimal(0))
    if (unit if unit is not None else rule.unit) == "%":
        value = min(value, Decimal(100))
    value = round_published(value, precision) if precision is not None else value
    mark = judge(rule, value, baseline=baseline, precision=precision, direction=direction)
    return Projection(value=value, method=method, months_elapsed=months_elapsed, mark_if_held=mark)
