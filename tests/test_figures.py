"""plans.figures: reading a figure a person typed and checking an actual, with the exact Japanese messages."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans import figures
from plans.figures import FigureError, FigureProblem, check_actual, parse_figure

D = Decimal

FULL_WIDTH = str.maketrans({**{str(i): chr(0xFF10 + i) for i in range(10)}, ".": "．", ",": "，", "-": "－"})


# -- parse_figure: what it reads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("72.2", D("72.2")),
        ("７２．２", D("72.2")),
        ("１，５２９", D("1529")),
        ("1,529", D("1529")),
        ("1,234,567.89", D("1234567.89")),
        ("  72.2\u3000", D("72.2")),
        ("-3", D("-3")),
        ("－３", D("-3")),
        ("−3", D("-3")),
        ("0.370", D("0.370")),
        ("007", D("7")),
        ("123456789012.1234", D("123456789012.1234")),
        ("72.20000", D("72.2")),
    ],
)
def test_it_reads_a_figure_as_a_person_types_it(text: str, expected: Decimal) -> None:
    assert parse_figure(text) == expected


def test_it_keeps_the_decimals_as_written() -> None:
    assert parse_figure("0.370").as_tuple().exponent == -3
    assert parse_figure("30.70").as_tuple().exponent == -2


def test_it_reads_minus_zero_as_zero() -> None:
    assert not parse_figure("-0.0").is_signed()


def test_it_reads_an_int_and_a_decimal() -> None:
    assert parse_figure(1529) == D("1529")
    assert parse_figure(D("0.1")) == D("0.1")


# -- parse_figure: what it refuses, and the message ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("72.2%", "数値だけを入力してください（「%」などの単位は不要です）。"),
        ("72.2 ％", "数値だけを入力してください（「％」などの単位は不要です）。"),
        ("1,529事業所", "数値だけを入力してください（「事業所」などの単位は不要です）。"),
        ("実施", "「実施」は数値ではありません。数値を入力してください。"),
        ("", "数値を入力してください。"),
        ("   ", "数値を入力してください。"),
        ("NaN", "「NaN」は数値として使えません。数値を入力してください。"),
        ("-Infinity", "「-Infinity」は数値として使えません。数値を入力してください。"),
        ("1,52,9", "「1,52,9」の桁区切り「,」の位置が正しくありません（例: 1,529）。"),
        ("1529,", "「1529,」の桁区切り「,」の位置が正しくありません（例: 1,529）。"),
        ("72.12345", "小数点以下は4桁までです（「72.12345」）。"),
        ("1234567890123", "整数部分は12桁までです（「1234567890123」）。"),
        ("約72", "数値だけを入力してください（「約」は入力できません）。"),
        ("72.2.3", "「72.2.3」は数値の形になっていません。"),
        ("+5", "数値だけを入力してください（「+」は入力できません）。"),
        ("1e5", "数値だけを入力してください（「e」は入力できません）。"),
        ("①", "「①」は数値ではありません。数値を入力してください。"),
        ("٣", "「٣」は数値ではありません。数値を入力してください。"),
    ],
)
def test_it_refuses_what_is_not_a_figure_saying_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FigureError) as exc:
        parse_figure(text)
    assert str(exc.value) == message


def test_it_checks_the_decimals_of_the_column_the_figure_goes_into() -> None:
    assert parse_figure("163860.25", decimal_places=2) == D("163860.25")
    with pytest.raises(FigureError) as exc:
        parse_figure("163860.255", decimal_places=2)
    assert str(exc.value) == figures.TOO_MANY_DECIMALS.format(places=2, text="163860.255")


@pytest.mark.parametrize("raw", [D("NaN"), D("Infinity"), True, 0.1, None])
def test_it_refuses_non_figures_of_other_types(raw: object) -> None:
    with pytest.raises(FigureError):
        parse_figure(raw)  # type: ignore[arg-type]


def test_a_figure_error_is_a_value_error() -> None:
    assert issubclass(FigureError, ValueError)


# -- parse_figure: properties -------------------------------------------------------------------------

figures_in_range = st.decimals(
    min_value=D("-999999999999.9999"), max_value=D("999999999999.9999"), places=4, allow_nan=False
) | st.integers(min_value=-(10**12) + 1, max_value=10**12 - 1).map(Decimal)


@given(figures_in_range)
def test_it_round_trips_every_figure_in_range_as_written(value: Decimal) -> None:
    assert parse_figure(f"{value:f}") == value


@given(figures_in_range)
def test_it_round_trips_every_figure_in_range_with_thousands_separators(value: Decimal) -> None:
    assert parse_figure(f"{value:,f}") == value


@given(figures_in_range)
def test_it_round_trips_every_figure_in_range_in_full_width(value: Decimal) -> None:
    assert parse_figure(f"{value:,f}".translate(FULL_WIDTH)) == value


@given(st.text())
def test_it_raises_nothing_but_a_figure_error_on_any_text(text: str) -> None:
    try:
        parse_figure(text)
    except FigureError as exc:
        assert str(exc)


@given(st.text(alphabet="0123456789０１２３４５６７８９.,．，-－% 　円件e"))
def test_it_raises_nothing_but_a_figure_error_on_figure_like_text(text: str) -> None:
    try:
        value = parse_figure(text)
    except FigureError as exc:
        assert str(exc)
    else:
        assert value.is_finite()
        assert -value.as_tuple().exponent <= figures.DECIMAL_PLACES  # type: ignore[operator]


# -- check_actual ---------------------------------------------------------------------------------------


def problems(**kwargs: object) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in check_actual(**kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "unit", "value"),
    [
        ("rate", "%", D("0")),
        ("rate", "%", D("100")),
        ("rate", "%", D("72.2")),
        ("count", "事業所", D("1529")),
        ("count", "事業所", D("0")),
        ("amount", "円", D("6535")),
        ("amount", "円", D("53.5")),
        ("days", "日", D("6.5")),
        ("frequency", "", D("12")),
        ("frequency", "", D("0")),
    ],
)
def test_it_accepts_a_sensible_actual(kind: str, unit: str, value: Decimal) -> None:
    assert check_actual(kind=kind, unit=unit, value=value) == []


@pytest.mark.parametrize("value", [D("100.1"), D("-0.1"), D("722")])
def test_it_refuses_a_rate_outside_0_to_100(value: Decimal) -> None:
    assert problems(kind="rate", unit="%", value=value) == [
        ("value", f"実績値は0〜100（％）の範囲で入力してください（入力: {value}）。")
    ]


@pytest.mark.parametrize(("kind", "unit"), [("count", "件"), ("amount", "円"), ("days", "日")])
def test_it_refuses_a_negative_count_amount_or_days(kind: str, unit: str) -> None:
    assert problems(kind=kind, unit=unit, value=D("-1")) == [("value", "実績値に負の数は入力できません（入力: -1）。")]


def test_it_refuses_a_fractional_count() -> None:
    assert problems(kind="count", unit="事業所", value=D("1529.5")) == [
        ("value", "実績値は件数なので整数で入力してください（入力: 1529.5）。")
    ]


def test_it_accepts_a_whole_count_the_database_padded_with_zeros() -> None:
    assert check_actual(kind="count", unit="事業所", value=D("1529.0000")) == []


def test_it_refuses_a_negative_numerator_and_denominator() -> None:
    assert problems(kind="count", unit="件", value=D("1"), numerator=D("-1"), denominator=D("-2")) == [
        ("numerator", "分子に負の数は入力できません（入力: -1）。"),
        ("denominator", "分母に負の数は入力できません（入力: -2）。"),
    ]


def test_it_refuses_a_zero_denominator() -> None:
    assert problems(kind="rate", unit="%", value=D("50"), numerator=D("0"), denominator=D("0")) == [
        ("denominator", "分母に0は入力できません。")
    ]


def test_it_refuses_a_rate_numerator_above_its_denominator() -> None:
    assert problems(kind="rate", unit="%", value=D("72.2"), numerator=D("300"), denominator=D("200")) == [
        ("numerator", "分子（300）が分母（200）より大きくなっています。率の分子は分母以下です。")
    ]


def test_it_lets_a_numerator_exceed_the_denominator_when_the_kpi_is_not_a_rate() -> None:
    assert check_actual(kind="amount", unit="円", value=D("1.5"), numerator=D("300"), denominator=D("200")) == []


def test_it_accepts_a_rate_that_agrees_with_its_counts() -> None:
    # Tochigi FY2023: 生活習慣病予防健診 72.2％ = 163,860 / 226,946
    assert check_actual(kind="rate", unit="%", value=D("72.2"), numerator=D("163860"), denominator=D("226946")) == []
    # the same figure read back from the database, padded to 4 decimals
    assert check_actual(kind="rate", unit="%", value=D("72.2000"), numerator=D("163860"), denominator=D("226946")) == []


def test_it_accepts_a_rate_truncated_rather_than_rounded() -> None:
    # 2 / 3 = 66.666… → 66.7 rounded, 66.6 truncated: both are ways a branch prints it
    for value in ("66.7", "66.6"):
        assert check_actual(kind="rate", unit="%", value=D(value), numerator=D("2"), denominator=D("3")) == []


def test_it_refuses_a_rate_that_disagrees_with_its_counts() -> None:
    assert problems(kind="rate", unit="%", value=D("72.3"), numerator=D("163860"), denominator=D("226946")) == [
        (
            "value",
            "実績値 72.3 が 分子÷分母×100 = 72.2022 と合いません"
            "（小数点以下1桁に四捨五入または切り捨てすると 72.2 です）。",
        )
    ]


def test_it_compares_a_rate_with_its_counts_at_the_stated_decimals() -> None:
    assert problems(kind="rate", unit="%", value=D("72.21"), numerator=D("163860"), denominator=D("226946")) == [
        (
            "value",
            "実績値 72.21 が 分子÷分母×100 = 72.2022 と合いません"
            "（小数点以下2桁に四捨五入または切り捨てすると 72.20 です）。",
        )
    ]


def test_it_refuses_a_figure_typed_as_text_for_a_numeric_kpi() -> None:
    assert problems(kind="rate", unit="%", value=None, text_value="72.2%") == [
        ("text_value", "「72.2%」は数値です。実績（定性）ではなく実績値に、数値だけ（72.2）を入力してください。")
    ]
    assert problems(kind="count", unit="事業所", value=None, text_value="１，５２９事業所") == [
        (
            "text_value",
            "「１，５２９事業所」は数値です。実績（定性）ではなく実績値に、数値だけ（1529）を入力してください。",
        )
    ]


def test_it_refuses_words_for_a_numeric_kpi() -> None:
    assert problems(kind="rate", unit="%", value=None, text_value="実施") == [
        ("text_value", "このKPIの実績は数値です。実績値に数値を入力してください（「実施」は数値ではありません）。")
    ]


def test_it_accepts_text_for_a_qualitative_or_frequency_kpi() -> None:
    assert check_actual(kind="qualitative", unit="", value=None, text_value="実施") == []
    assert check_actual(kind="frequency", unit="", value=None, text_value="毎月実施") == []


def test_it_refuses_a_number_for_a_qualitative_kpi() -> None:
    assert problems(kind="qualitative", unit="", value=D("1")) == [
        ("value", "このKPIの実績は「実施」などの文章です。実績値ではなく実績（定性）に入力してください。")
    ]


@pytest.mark.parametrize("value", [D("13"), D("-1"), D("6.5")])
def test_it_takes_a_frequency_as_whole_months_0_to_12(value: Decimal) -> None:
    assert problems(kind="frequency", unit="", value=value) == [
        ("value", f"実績値は実施した月数（0〜12の整数）で入力してください（入力: {value}）。")
    ]


def test_it_reports_every_problem_at_once() -> None:
    found = check_actual(kind="count", unit="件", value=D("1.5"), numerator=D("-3"), denominator=D("0"))
    assert found == [
        FigureProblem("value", figures.FRACTIONAL_COUNT.format(field="実績値", value="1.5")),
        FigureProblem("numerator", figures.NEGATIVE.format(field="分子", value="-3")),
        FigureProblem("denominator", figures.ZERO_DENOMINATOR),
    ]


@given(
    st.integers(min_value=1, max_value=10**9),
    st.data(),
    st.integers(min_value=0, max_value=4),
    st.sampled_from([ROUND_HALF_UP, ROUND_DOWN]),
)
def test_it_accepts_any_rate_printed_from_its_counts(
    denominator: int, data: st.DataObject, places: int, rounding: str
) -> None:
    numerator = data.draw(st.integers(min_value=0, max_value=denominator))
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), rounding=rounding)
    found = check_actual(
        kind="rate", unit="%", value=value, numerator=Decimal(numerator), denominator=Decimal(denominator)
    )
    assert found == []


@given(st.decimals(min_value=D("-1000"), max_value=D("1000"), places=4), st.sampled_from(["rate", "count", "amount"]))
def test_it_accepts_a_figure_exactly_when_it_is_in_range(value: Decimal, kind: str) -> None:
    found = check_actual(kind=kind, unit="%" if kind == "rate" else "円", value=value)
    in_range = value >= 0 and (kind != "rate" or value <= 100) and (kind != "count" or value == value.to_integral())
    assert (found == []) == in_range
