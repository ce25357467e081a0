"""Figures typed by a person: read them and check them in one place.

Every way a figure enters kpitrack — the admin, the seed, the browser form and the Excel import — reads it
with ``parse_figure`` and checks an actual with ``check_actual``, so the same input gets the same Japanese
message everywhere. Pure: no Django, no database.

Decisions:
- Full-width digits and punctuation (``７２．２``, ``１，５２９``, ``－３``) are read as their half-width
  forms; ``−`` (U+2212) is a minus too. Nothing else is folded (``①`` and ``٣`` are not figures).
- Thousands separators are allowed only every three digits of the integer part (``1,529``; not ``1,52,9``).
- A figure keeps the decimals as written (``"0.370"`` stays ``Decimal("0.370")``): the stated decimals
  are what ``check_actual`` compares a rate with its numerator and denominator at. Trailing zeros beyond
  the decimals the column keeps are dropped (nothing is lost); other decimals beyond it are refused.
- Qualitative KPIs (kind ``qualitative``) take text (``実施``), never a number. A ``frequency`` KPI
  (``毎月``) takes text or the number of months done (a whole number 0–12), which is how rules.judge reads
  it. Numeric KPIs (rate, count, amount, days) take a number; text alone is refused.
- A rate agrees with its numerator and denominator when numerator ÷ denominator × 100 rounded half up
  (四捨五入) or truncated (切り捨て) to the value's stated decimals gives the value.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from plans import fiscal

MAX_DIGITS = 16  # KpiActual.value, KpiTarget.target_value: max_digits=16, decimal_places=4
DECIMAL_PLACES = 4
PERCENT_UNITS = frozenset({"%", "％"})
MONTHS_IN_YEAR = 12

# -- messages (format strings; the browser entry and the import reuse them) -------------------------

EMPTY = "数値を入力してください。"
HAS_UNIT = "数値だけを入力してください（「{unit}」などの単位は不要です）。"
NOT_A_NUMBER = "「{text}」は数値ではありません。数値を入力してください。"
EXTRA_CHARACTERS = "数値だけを入力してください（「{chars}」は入力できません）。"
MALFORMED = "「{text}」は数値の形になっていません。"
NOT_FINITE = "「{text}」は数値として使えません。数値を入力してください。"
BAD_THOUSANDS = "「{text}」の桁区切り「,」の位置が正しくありません（例: 1,529）。"
TOO_MANY_DECIMALS = "小数点以下は{places}桁までです（「{text}」）。"
TOO_MANY_DIGITS = "整数部分は{digits}桁までです（「{text}」）。"

RATE_OUT_OF_RANGE = "{field}は0〜100（％）の範囲で入力してください（入力: {value}）。"
NEGATIVE = "{field}に負の数は入力できません（入力: {value}）。"
FRACTIONAL_COUNT = "{field}は件数なので整数で入力してください（入力: {value}）。"
FREQUENCY_MONTHS = "{field}は実施した月数（0〜12の整数）で入力してください（入力: {value}）。"
NUMBER_FOR_QUALITATIVE = "このKPIの実績は「実施」などの文章です。実績値ではなく実績（定性）に入力してください。"
ZERO_DENOMINATOR = "分母に0は入力できません。"
NUMERATOR_ABOVE_DENOMINATOR = (
    "分子（{numerator}）が分母（{denominator}）より大きくなっています。率の分子は分母以下です。"
)
DISAGREES_WITH_COUNTS = (
    "実績値 {value} が 分子÷分母×100 = {ratio} と合いません"
    "（小数点以下{places}桁に四捨五入または切り捨てすると {rounded} です）。"
)
FIGURE_AS_TEXT = "「{text}」は数値です。実績（定性）ではなく実績値に、数値だけ（{figure}）を入力してください。"
TEXT_FOR_NUMERIC = "このKPIの実績は数値です。実績値に数値を入力してください（「{text}」は数値ではありません）。"

MONTH_NOT_FIRST_DAY = "対象月は月の1日の日付で入力してください（入力: {day}）。"
NO_FIGURE = "実績値か実績（定性）のどちらかを入力してください。"
MONTH_NOT_IN_YEAR = "{month}は{year}の月ではありません。"

FIELD_LABELS = {"value": "実績値", "numerator": "分子", "denominator": "分母", "text_value": "実績（定性）"}


class FigureError(ValueError):
    """A figure that cannot be read; the message is Japanese and says what is wrong."""


@dataclass(frozen=True)
class FigureProblem:
    field: str  # "value" | "numerator" | "denominator" | "text_value"
    message: str


# -- reading ----------------------------------------------------------------------------------------

_FOLD = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": ".", "，": ",", "－": "-", "−": "-"})
_PLAIN = re.compile(r"-?(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?")
_GROUPED = re.compile(r"-?(?P<int>[0-9]{1,3}(?:,[0-9]{3})+)(?:\.(?P<frac>[0-9]+))?")
_NUMBERISH = re.compile(r"-?[0-9][0-9,]*(?:\.[0-9]+)?")
_NON_FINITE = re.compile(r"[+-]?(?:s?nan[0-9]*|inf|infinity)", re.IGNORECASE)
_DIGITS_AND_PUNCTUATION = re.compile(r"[0-9.,\-\s]+")


def parse_figure(
    text: str | int | Decimal, *, decimal_places: int = DECIMAL_PLACES, max_digits: int = MAX_DIGITS
) -> Decimal:
    """Read a figure a person typed; raise ``FigureError`` with a Japanese message when it is not one.

    ``decimal_places`` and ``max_digits`` are those of the column the figure goes into (KpiActual.value:
    4 and 16; numerator and denominator: 2 and 16).
    """
    if isinstance(text, bool) or not isinstance(text, str | int | Decimal):
        raise FigureError(NOT_A_NUMBER.format(text=text))
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise FigureError(NOT_FINITE.format(text=text))
        text = f"{text:f}"
    original = str(text).strip()
    if not original:
        raise FigureError(EMPTY)
    folded = original.translate(_FOLD)
    if _NON_FINITE.fullmatch(folded):
        raise FigureError(NOT_FINITE.format(text=original))
    match = _PLAIN.fullmatch(folded) or _GROUPED.fullmatch(folded)
    if match is None:
        raise FigureError(_why_not_a_figure(original, folded))
    integer, fraction = match["int"].replace(",", "").lstrip("0"), match["frac"] or ""
    if len(fraction) > decimal_places:
        if fraction[decimal_places:].strip("0"):
            raise FigureError(TOO_MANY_DECIMALS.format(places=decimal_places, text=original))
        fraction = fraction[:decimal_places]
    integer_digits = max_digits - decimal_places
    if len(integer) > integer_digits:
        raise FigureError(TOO_MANY_DIGITS.format(digits=integer_digits, text=original))
    sign = "-" if folded.startswith("-") else ""
    try:
        value = Decimal(f"{sign}{integer or '0'}{'.' if fraction else ''}{fraction}")
    except InvalidOperation as exc:  # pragma: no cover - the patterns above admit only plain decimals
        raise FigureError(MALFORMED.format(text=original)) from exc
    return value.copy_abs() if value.is_zero() else value


def _why_not_a_figure(original: str, folded: str) -> str:
    if not re.search(r"[0-9]", folded):
        return NOT_A_NUMBER.format(text=original)
    head = _NUMBERISH.match(folded)
    if head is not None and head.end() < len(folded):
        rest = folded[head.end() :].strip()
        if rest and not re.search(r"[0-9]", rest):
            if _PLAIN.fullmatch(head.group()) or _GROUPED.fullmatch(head.group()):
                return HAS_UNIT.format(unit=original[len(original) - len(rest) :])
    extra = "".join(dict.fromkeys(_DIGITS_AND_PUNCTUATION.sub("", folded)))
    if "," in folded and not extra:
        return BAD_THOUSANDS.format(text=original)
    if extra:
        return EXTRA_CHARACTERS.format(chars=extra)
    return MALFORMED.format(text=original)


def figure_in_text(text: str) -> Decimal | None:
    """The figure in text like ``72.2%`` or ``1,529事業所`` (a number followed by at most a unit), or None."""
    folded = text.strip().translate(_FOLD)
    head = _NUMBERISH.match(folded)
    if head is None or re.search(r"[0-9]", folded[head.end() :]):
        return None
    try:
        return parse_figure(head.group())
    except FigureError:
        return None


# -- checking an actual -----------------------------------------------------------------------------


def check_month(month: datetime.date | None, fiscal_year: int) -> list[FigureProblem]:
    """The problem with an actual's month in a plan of ``fiscal_year``: not a first day, or outside the year."""
    if month is None:
        return []
    if month.day != 1:
        return [FigureProblem("month", MONTH_NOT_FIRST_DAY.format(day=f"{month:%Y-%m-%d}"))]
    if not fiscal.in_year(month, fiscal_year):
        label = MONTH_NOT_IN_YEAR.format(month=fiscal.month_label(month), year=fiscal.reiwa_label(fiscal_year))
        return [FigureProblem("month", label)]
    return []


def check_actual(
    *,
    kind: str,
    unit: str,
    value: Decimal | None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    text_value: str = "",
) -> list[FigureProblem]:
    """Every problem with an actual of a KPI of ``kind`` (Kpi.Kind values) and ``unit``; [] when it is fine."""
    problems: list[FigureProblem] = []

    def problem(field: str, message: str, **values: object) -> None:
        problems.append(FigureProblem(field, message.format(field=FIELD_LABELS[field], **values)))

    is_rate = kind == "rate" or unit in PERCENT_UNITS
    numeric = kind in {"rate", "count", "amount", "days"}
    if value is not None:
        shown = _show(value)
        if kind == "qualitative":
            problem("value", NUMBER_FOR_QUALITATIVE)
        elif kind == "frequency":
            if value < 0 or value > MONTHS_IN_YEAR or value != value.to_integral_value():
                problem("value", FREQUENCY_MONTHS, value=shown)
        elif is_rate and not 0 <= value <= 100:
            problem("value", RATE_OUT_OF_RANGE, value=shown)
        elif value < 0:
            problem("value", NEGATIVE, value=shown)
        elif kind == "count" and value != value.to_integral_value():
            problem("value", FRACTIONAL_COUNT, value=shown)
    elif numeric and text_value.strip():
        figure = figure_in_text(text_value)
        if figure is not None:
            problem("text_value", FIGURE_AS_TEXT, text=text_value.strip(), figure=_show(figure))
        else:
            problem("text_value", TEXT_FOR_NUMERIC, text=text_value.strip())

    if numerator is not None and numerator < 0:
        problem("numerator", NEGATIVE, value=_show(numerator))
    if denominator is not None and denominator < 0:
        problem("denominator", NEGATIVE, value=_show(denominator))
    elif denominator is not None and denominator == 0:
        problem("denominator", ZERO_DENOMINATOR)
    if (
        is_rate
        and numerator is not None
        and denominator is not None
        and numerator >= 0
        and denominator > 0
        and numerator > denominator
    ):
        problem("numerator", NUMERATOR_ABOVE_DENOMINATOR, numerator=_show(numerator), denominator=_show(denominator))
    elif is_rate and value is not None and numerator is not None and denominator is not None and denominator > 0:
        disagreement = _disagreement(value, numerator, denominator)
        if disagreement is not None:
            problem("value", DISAGREES_WITH_COUNTS, value=_show(value), **disagreement)
    return problems


def _disagreement(value: Decimal, numerator: Decimal, denominator: Decimal) -> dict[str, object] | None:
    places = max(0, -int(value.normalize().as_tuple().exponent))
    ratio = numerator * 100 / denominator
    step = Decimal(1).scaleb(-places)
    rounded = ratio.quantize(step, rounding=ROUND_HALF_UP)
    if value in (rounded, ratio.quantize(step, rounding=ROUND_DOWN)):
        return None
    shown_ratio = _show(ratio.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
    return {"ratio": shown_ratio, "places": places, "rounded": f"{rounded:f}"}


def _show(value: Decimal) -> str:
    """A figure as a person wrote it, without the zeros the database pads it with (72.2000 → 72.2)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
