"""Properties of plans.rules (hypothesis): marks are monotonic and symmetric, rounding happens once,
and the parser only ever fails with TargetParseError."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from plans.rules import (
    Mark,
    RuleKind,
    TargetParseError,
    TargetRule,
    judge,
    parse_target,
    round_published,
)

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # leave no .hypothesis/ example database behind in the repo
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

RANK = {Mark.BELOW: 0, Mark.AS_PLANNED: 1, Mark.ABOVE: 2}

#: Figures as they occur in KPIs: rates, yen, office counts; up to 4 decimals, finite.
figures = st.decimals(min_value=-100_000, max_value=100_000, places=4, allow_nan=False, allow_infinity=False)
precisions = st.none() | st.integers(min_value=0, max_value=3)


def fixed(kind: RuleKind, value: Decimal) -> TargetRule:
    return TargetRule(kind, f"{kind}:{value}", value=value, unit="%")


def yoy(kind: RuleKind, stated: Decimal | None = None) -> TargetRule:
    return TargetRule(kind, f"{kind}:{stated}", baseline=stated)


# --------------------------------------------------------------------------------------------------
# A better actual never gets a worse mark
# --------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(target=figures, a=figures, b=figures, precision=precisions)
@example(target=Decimal("13.1"), a=Decimal("13.04"), b=Decimal("13.05"), precision=1)
def test_fixed_min_higher_actual_never_gets_a_worse_mark(
    target: Decimal, a: Decimal, b: Decimal, precision: int | None
) -> None:
    worse, better = sorted((a, b))
    rule = fixed(RuleKind.FIXED_MIN, target)
    assert RANK[judge(rule, worse, precision=precision)] <= RANK[judge(rule, better, precision=precision)]


@PROPERTY_SETTINGS
@given(target=figures, a=figures, b=figures, precision=precisions)
def test_fixed_max_lower_actual_never_gets_a_worse_mark(
    target: Decimal, a: Decimal, b: Decimal, precision: int | None
) -> None:
    better, worse = sorted((a, b))
    rule = fixed(RuleKind.FIXED_MAX, target)
    assert RANK[judge(rule, worse, precision=precision)] <= RANK[judge(rule, better, precision=precision)]


@PROPERTY_SETTINGS
@given(baseline=figures, a=figures, b=figures, precision=precisions, stated=st.booleans())
def test_yoy_min_higher_actual_never_gets_a_worse_mark(
    baseline: Decimal, a: Decimal, b: Decimal, precision: int | None, stated: bool
) -> None:
    worse, better = sorted((a, b))
    rule = yoy(RuleKind.YOY_MIN, baseline if stated else None)
    passed = None if stated else baseline
    low = judge(rule, worse, baseline=passed, precision=precision)
    high = judge(rule, better, baseline=passed, precision=precision)
    assert low is not None and high is not None
    assert high is not Mark.ABOVE  # a yoy target is met (○) or missed (△), never ◎
    assert RANK[low] <= RANK[high]


@PROPERTY_SETTINGS
@given(baseline=figures, a=figures, b=figures, precision=precisions, stated=st.booleans())
def test_yoy_max_lower_actual_never_gets_a_worse_mark(
    baseline: Decimal, a: Decimal, b: Decimal, precision: int | None, stated: bool
) -> None:
    better, worse = sorted((a, b))
    rule = yoy(RuleKind.YOY_MAX, baseline if stated else None)
    passed = None if stated else baseline
    low = judge(rule, worse, baseline=passed, precision=precision)
    high = judge(rule, better, baseline=passed, precision=precision)
    assert low is not None and high is not None
    assert RANK[low] <= RANK[high]


# --------------------------------------------------------------------------------------------------
# At least / at most mirror each other
# --------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(target=figures, actual=figures, precision=precisions)
@example(target=Decimal("2"), actual=Decimal("2.5"), precision=0)
def test_fixed_min_and_fixed_max_mirror_each_other(target: Decimal, actual: Decimal, precision: int | None) -> None:
    assert judge(fixed(RuleKind.FIXED_MIN, target), actual, precision=precision) is judge(
        fixed(RuleKind.FIXED_MAX, -target), -actual, precision=precision
    )


@PROPERTY_SETTINGS
@given(baseline=figures, actual=figures, precision=precisions)
@example(baseline=Decimal("82.05"), actual=Decimal("82.1"), precision=1)
def test_yoy_min_and_yoy_max_mirror_each_other(baseline: Decimal, actual: Decimal, precision: int | None) -> None:
    passed = judge(yoy(RuleKind.YOY_MIN), actual, baseline=baseline, precision=precision)
    assert passed is judge(yoy(RuleKind.YOY_MAX), -actual, baseline=-baseline, precision=precision)
    stated = judge(yoy(RuleKind.YOY_MIN, baseline), actual, precision=precision)
    assert stated is judge(yoy(RuleKind.YOY_MAX, -baseline), -actual, precision=precision)
    assert stated is passed


# --------------------------------------------------------------------------------------------------
# Rounding is applied once, consistently
# --------------------------------------------------------------------------------------------------

judged_rules = st.one_of(
    st.builds(fixed, st.sampled_from([RuleKind.FIXED_MIN, RuleKind.FIXED_MAX, RuleKind.EXACT]), figures),
    st.builds(yoy, st.sampled_from([RuleKind.YOY_MIN, RuleKind.YOY_MAX]), st.none() | figures),
)


@PROPERTY_SETTINGS
@given(rule=judged_rules, actual=figures, baseline=figures, precision=st.integers(min_value=0, max_value=3))
@example(rule=fixed(RuleKind.FIXED_MIN, Decimal("13.1")), actual=Decimal("13.05"), baseline=Decimal(0), precision=1)
def test_judging_a_value_equals_judging_its_published_value(
    rule: TargetRule, actual: Decimal, baseline: Decimal, precision: int
) -> None:
    published = round_published(actual, precision)
    assert judge(rule, actual, baseline=baseline, precision=precision) is judge(
        rule, published, baseline=baseline, precision=precision
    )


@PROPERTY_SETTINGS
@given(value=figures, precision=precisions)
def test_round_published_is_idempotent(value: Decimal, precision: int | None) -> None:
    once = round_published(value, precision)
    assert round_published(once, precision) == once
    if precision is not None:
        assert -once.as_tuple().exponent == precision  # type: ignore[operator]
        assert abs(once - value) <= Decimal("0.5").scaleb(-precision)


@PROPERTY_SETTINGS
@given(value=figures, precision=st.integers(min_value=0, max_value=3))
def test_round_published_is_symmetric_half_up(value: Decimal, precision: int) -> None:
    assert round_published(-value, precision) == -round_published(value, precision)


# --------------------------------------------------------------------------------------------------
# The parser fails only with TargetParseError, and reads fixed values back exactly
# --------------------------------------------------------------------------------------------------

#: Fragments of real target phrases, so that generated text reaches deep into the parser.
fragments = st.sampled_from(
    [
        "71.7",
        "１，３３０",
        "1,330",
        "0.087",
        "１００",
        "7",
        ".",
        ",",
        "..",
        "％",
        "%",
        "事業所",
        "円",
        "日",
        "か月",
        "以上",
        "以下",
        "以内",
        "とする",
        "。",
        "対",
        "前年度",
        "末",
        "年度末時点で",
        "（",
        "）",
        "(",
        ")",
        "※",
        "を",
        "について、",
        "は",
        "、",
        "・",
        "【KPI】",
        "KPI:",
        "毎月",
        "月に",
        "1回以上",
        "実施",
        "働きかけ",
        "関係機関への",
        "設定なし",
        "－",
        "-",
        " ",
        "\n",
        "健診受診月から10か月以内に",
        "割合",
        "abc",
        "〇",
    ]
)
phrase_like = st.lists(fragments, max_size=12).map("".join)


@PROPERTY_SETTINGS
@given(text=st.text() | phrase_like)
@example(text="対前年度(abc)以上")
@example(text="71..7%以上")
@example(text="٣٣%以上")
def test_parse_target_fails_only_with_target_parse_error(text: str) -> None:
    try:
        rule = parse_target(text)
    except TargetParseError as error:
        assert error.text == text
        assert f"「{text}」" in str(error)
    else:
        assert rule.text == text
        assert isinstance(rule.kind, RuleKind)
        if rule.kind in (RuleKind.FIXED_MIN, RuleKind.FIXED_MAX, RuleKind.EXACT):
            assert rule.value is not None and rule.value.is_finite()
        else:
            assert rule.value is None


plain_values = st.decimals(min_value=0, max_value=1_000_000, places=3, allow_nan=False, allow_infinity=False)


@PROPERTY_SETTINGS
@given(value=plain_values | st.integers(min_value=0, max_value=10**7).map(Decimal))
@example(value=Decimal("0.0"))
@example(value=Decimal("1330"))
def test_a_fixed_rule_round_trips_its_value(value: Decimal) -> None:
    at_least = parse_target(f"{value}％以上")
    assert (at_least.kind, at_least.value, at_least.unit) == (RuleKind.FIXED_MIN, value, "%")
    assert str(at_least.value) == str(value)

    at_most = parse_target(f"{value}％以下")
    assert (at_most.kind, at_most.value) == (RuleKind.FIXED_MAX, value)

    in_sentence = parse_target(f"生活習慣病予防健診実施率を{value}％以上とする")
    assert (in_sentence.kind, in_sentence.value) == (RuleKind.FIXED_MIN, value)

    stated = parse_target(f"対前年度（{value}％）以上")
    assert (stated.kind, stated.baseline, stated.unit) == (RuleKind.YOY_MIN, value, "%")


@PROPERTY_SETTINGS
@given(value=st.integers(min_value=1000, max_value=10**7))
def test_a_count_with_thousands_separators_round_trips(value: int) -> None:
    rule = parse_target(f"{value:,}事業所以上")
    assert (rule.kind, rule.value, rule.unit) == (RuleKind.FIXED_MIN, Decimal(value), "事業所")


# --------------------------------------------------------------------------------------------------
# No digit outside the target figure becomes part of a value
# --------------------------------------------------------------------------------------------------

#: List markers a row may start with; many hold digits that NFKC would fold into the figure.
list_markers = st.sampled_from(
    ["", "①", "⑨", "⑩", "⑳", "❶", "➊", "⑴", "⒈", "(1)", "（１）", "（12）", "1)", "１）", "・", "Ⅲ", "（イ）"]
)
#: Markers that are only markers when a space follows: "9.2100" and "ア65" are not lists.
spaced_markers = st.sampled_from(["9.", "１．", "ア"])
marker_gaps = st.sampled_from(["", " ", "　", "\n"])
markers = st.tuples(list_markers, marker_gaps) | st.tuples(spaced_markers, st.sampled_from([" ", "　"]))
#: Footnote marks after the target, with or without their own numbers.
footnotes = st.sampled_from(["", "※", "※1", "※23", "（※1）", "(※)", "\n※", "\n\n※2", "¹", "²³"])
units = st.sampled_from(["%", "％", "事業所", "円", "日", "件", "人", "回"])
operators = st.sampled_from(["以上", "以下", "以内"])
target_values = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
names = st.sampled_from(["", "生活習慣病予防健診実施率を", "健康宣言事業所数について、"])


def written(value: Decimal, *, full_width: bool = False, thousands: bool = False) -> str:
    text = f"{value:,}" if thousands else str(value)
    return text.translate(str.maketrans("0123456789.,", "０１２３４５６７８９．，")) if full_width else text


@PROPERTY_SETTINGS
@given(
    marker_gap=markers,
    name=names,
    value=target_values,
    full_width=st.booleans(),
    thousands=st.booleans(),
    unit=units,
    op=operators,
    sentence=st.booleans(),
    footnote=footnotes,
)
@example(marker_gap=("①", " "), name="", value=Decimal("65.0"), full_width=True, thousands=False, unit="％",
         op="以上", sentence=False, footnote="")
@example(marker_gap=("②", "　"), name="", value=Decimal("2100"), full_width=False, thousands=True, unit="事業所",
         op="以上", sentence=False, footnote="")
@example(marker_gap=("①", ""), name="", value=Decimal("65.0"), full_width=False, thousands=False, unit="％",
         op="以上", sentence=False, footnote="※1")
def test_markers_and_footnotes_never_become_part_of_the_value(
    marker_gap: tuple[str, str], name: str, value: Decimal, full_width: bool, thousands: bool, unit: str, op: str,
    sentence: bool, footnote: str,
) -> None:
    marker, gap = marker_gap
    figure = written(value, full_width=full_width, thousands=thousands)
    phrase = f"{marker}{gap}{name}{figure}{unit}{op}{'とする' if sentence else ''}{footnote}"

    rule = parse_target(phrase)

    assert rule.value == value
    assert rule.kind is (RuleKind.FIXED_MIN if op == "以上" else RuleKind.FIXED_MAX)


@PROPERTY_SETTINGS
@given(
    first=target_values,
    second=target_values,
    unit=units,
    first_op=st.sampled_from(["以上", "以下", "以上とする", ""]),
    second_op=operators,
    gap=st.sampled_from(["", " ", "　", "\n", "\n\n", "、", "・"]),
    name=names,
    thousands=st.booleans(),
)
def test_a_row_with_two_figures_is_refused_never_one_picked(
    first: Decimal, second: Decimal, unit: str, first_op: str, second_op: str, gap: str, name: str, thousands: bool
) -> None:
    one, two = written(first, thousands=thousands), written(second, thousands=thousands)
    phrase = f"{name}{one}{unit}{first_op}{gap}{two}{unit}{second_op}"

    try:
        rule = parse_target(phrase)
    except TargetParseError:
        return
    raise AssertionError(f"{phrase!r} read as {rule.kind} {rule.value}")


noise_tokens = st.sampled_from(
    ["①", "②", "⑫", "⑴", "⒈", "❶", "¹", "(1)", "（１）", "1)", "１）", "2.", "※", "※1", "（※2）", "・", "ア"]
    + [" ", "　", "\n"]
)


@PROPERTY_SETTINGS
@given(noise=st.lists(noise_tokens, max_size=4).map("".join), value=target_values)
def test_digits_around_the_figure_are_refused_or_left_out(noise: str, value: Decimal) -> None:
    """Whatever digit-like noise stands before or after a target, the value read is the figure or nothing."""
    for phrase in (f"{noise}{value}%以上", f"{value}%以上{noise}"):
        try:
            rule = parse_target(phrase)
        except TargetParseError:
            continue
        assert rule.value == value, phrase
