"""The national KPI page's ranking, table rows and chart as they were made before issue 12's second pass: the
reference ``tests/test_kpi_pages_speed.py`` compares the pages served now with (copied verbatim)."""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from branches.models import Branch
from plans import fiscal, rules
from plans.charts import _category_axis, _float, _has_data, _layout, _y_range, mark_colour
from plans.fiscal import month_label, reiwa_label
from plans.formatting import format_figure
from plans.models import FiscalYear, Kpi
from plans.results import KpiResult, result_for
from plans.selectors import RankedResult, RankGroup, _share_kpis, _with_figures, ranking_month


def _ranked(rows: list[tuple[KpiResult, Branch]], group: RankGroup, sign: int) -> list[RankedResult]:
    """``rows`` best figure first, figures equal at the KPI's published precision sharing a rank (同順位, as
    they are judged and shown); ties broken by JIS order."""

    def published(result: KpiResult) -> Decimal:
        return rules.round_published(result.figure or Decimal(0), result.target.precision)

    rows = sorted(rows, key=lambda rb: (sign * published(rb[0]), rb[1].jis_code))
    ranked: list[RankedResult] = []
    rank, previous = 0, None
    for index, (result, branch) in enumerate(rows, start=1):
        if published(result) != previous:
            rank, previous = index, published(result)
        ranked.append(RankedResult(rank=rank, result=result, branch=branch, group=group))
    return ranked



def kpi_ranking(fiscal_year: FiscalYear, kpi: Kpi) -> list[RankedResult]:
    """Every branch's result for ``kpi`` in ``fiscal_year``, ranking only like with like (1 query).

    Year-end actuals are ranked together (group YEAR_END, first). Among branches without one, the
    mid-year figures at the most common as-of month are ranked together (group AS_OF, ranks from 1
    again). A mid-year figure at any other month is listed unranked with its month (newest month first),
    then branches without a figure, in JIS order. Which way is best follows the KPI's direction.
    """
    targets = _share_kpis(
        _with_figures()
        .filter(plan__fiscal_year=fiscal_year, kpi=kpi)
        .select_related(None)
        .select_related("plan__branch")
        .order_by(),
        {kpi.pk: kpi},
    )
    results = [(result_for(t), t.plan.branch) for t in targets]
    sign = 1 if kpi.direction == Kpi.Direction.LOWER else -1
    year_end = [rb for rb in results if isinstance(rb[0].year_end, Decimal)]
    mid_year = [rb for rb in results if rb[0].figure is not None and not isinstance(rb[0].year_end, Decimal)]
    month = ranking_month([r.latest_month for r, _ in mid_year if r.latest_month is not None])
    at_month = [rb for rb in mid_year if rb[0].latest_month == month]
    other_months = sorted(
        (rb for rb in mid_year if rb[0].latest_month != month),
        key=lambda rb: (sign * (rb[0].figure or 0), rb[1].jis_code),
    )
    other_months.sort(key=lambda rb: rb[0].latest_month or datetime.date.min, reverse=True)  # newest month first
    no_figure = sorted((rb for rb in results if rb[0].figure is None), key=lambda rb: rb[1].jis_code)
    return [
        *_ranked(year_end, RankGroup.YEAR_END, sign),
        *_ranked(at_month, RankGroup.AS_OF, sign),
        *(RankedResult(rank=None, result=r, branch=b) for r, b in [*other_months, *no_figure]),
    ]


def ranking_rows_html(fiscal_year: FiscalYear, kpi: Kpi, ranking: list[RankedResult]) -> str:
    """The ranking table's body: a heading row where the group changes, then each branch's rank, target,
    baseline, figure, as-of and mark, every text escaped (47 rows through a template loop were half of the
    page's time)."""
    url_pattern = reverse("kpi_detail", args=["BRANCH", fiscal_year.year, kpi.code])
    year_end_label, empty = escape(_("年度末")), "－"
    rows, group = [], None
    for row in ranking:
        result = row.result
        if row.group != group:
            group = row.group
            if group == RankGroup.YEAR_END:
                heading = _("年度末実績の順位")
            elif group == RankGroup.AS_OF:
                heading = _("%(month)s時点の実績の順位（年度末実績のない支部）") % {
                    "month": escape(fiscal.month_label(row.as_of))
                }
            else:
                heading = _("順位なし（時点が異なる実績・実績なし）")
            rows.append(f'<tr class="group"><th colspan="7">{heading}</th></tr>')
        unit, precision = result.kpi.unit, result.target.precision
        if result.baseline_note:
            baseline = escape(_(result.baseline_note))
        else:
            baseline = escape(format_figure(result.baseline, unit, precision))
        if result.year_end is not None:
            as_of = year_end_label
        elif result.latest_month:
            as_of = _("%(month)s時点") % {"month": escape(fiscal.month_label(result.latest_month))}
        else:
            as_of = empty
        if result.mark:
            mark = escape(result.mark)
        elif result.projected_mark:
            projected = _("%(mark)s（見込み）") % {"mark": escape(result.projected_mark)}
            mark = f'<span class="projected">{projected}</span>'
        else:
            mark = empty
        url = url_pattern.replace("BRANCH", row.branch.code, 1)
        rows.append(
            "<tr>\n"
            f'    <td class="num">{escape(localize(row.rank) if row.rank else empty)}</td>\n'
            f'    <td class="nowrap"><a href="{escape(url)}">{escape(row.branch.name)}</a></td>\n'
            f"    <td>{escape(result.target.target_text or empty)}</td>"
            f'<td class="num">{baseline}</td>\n'
            f'    <td class="num">{escape(format_figure(result.figure, unit, precision))}</td>\n'
            f'    <td class="nowrap">{as_of}</td>\n'
            f'    <td class="mark nowrap">{mark}</td>\n'
            "  </tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every text escaped above)


def branch_ranking(
    fiscal_year: int, kpi: Kpi, ranking: list[RankedResult], national_average: Decimal | None
) -> dict[str, Any] | None:
    """The ranked branches' figures for one KPI, coloured by mark, with the national average line.

    Only ranked figures are drawn, one trace per group (year-end actuals; figures at the ranking month),
    so a September figure never stands beside an August one; the table lists the rest with their month.
    A bar whose colour comes from a projection (no year-end actual yet) is drawn pale and hatched and
    labelled 見込み, so it is never read as an official mark. None for a qualitative KPI or nothing ranked.
    """
    kpi_name, unit, precision = kpi.name, kpi.unit, kpi.precision
    hover = f"%{{x}}: %{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    ranked = [r for r in ranking if r.rank is not None]
    if not kpi.is_numeric or not ranked:
        return None
    data: list[dict[str, Any]] = []
    for group in (RankGroup.YEAR_END, RankGroup.AS_OF):
        rows = [r for r in ranked if r.group is group]
        if not rows:
            continue
        results = [r.result for r in rows]
        marks = [r.mark or r.projected_mark for r in results]
        projected = [r.mark is None and r.projected_mark is not None for r in results]
        if group is RankGroup.YEAR_END:
            name = _("年度末実績")
        else:
            name = _("{month}時点の実績（淡色・斜線は年度末見込みによる色）").format(month=month_label(rows[0].as_of))
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": [r.branch.name for r in rows],
                "y": [_float(r.figure) for r in results],
                "marker": {
                    "color": [mark_colour(m) for m in marks],
                    "opacity": [0.45 if p else 1.0 for p in projected],
                    "pattern": {"shape": ["/" if p else "" for p in projected]},
                },
                "text": [
                    _("{mark}見込み").format(mark=m) if p and m else (m or "")
                    for m, p in zip(marks, projected, strict=True)
                ],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": hover,
            }
        )
    target = {
        "type": "scatter",
        "mode": "markers",
        "name": _("目標（基準値）"),
        "x": [r.branch.name for r in ranked],
        "y": [_float(r.result.reference) for r in ranked],
        "marker": {"symbol": "line-ew-open", "size": 18, "line": {"width": 3, "color": "#d35400"}},
        "cliponaxis": False,
        "hovertemplate": hover,
    }
    if _has_data(target):
        data.append(target)
    shapes = []
    # The national average is a year-end figure: drawn only beside year-end actuals.
    if national_average is not None and any(r.group is RankGroup.YEAR_END for r in ranked):
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": float(national_average),
                "y1": float(national_average),
                "line": {"color": "#6c757d", "width": 2, "dash": "dot"},
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": _("全国平均 {figure}").format(figure=format_figure(national_average, unit, precision)),
                "x": [ranked[0].branch.name, ranked[-1].branch.name],
                "y": [float(national_average)] * 2,
                "line": {"color": "#6c757d", "dash": "dot"},
                "hoverinfo": "skip",
            }
        )
    layout = _layout(
        _("{kpi}：支部別（{year}）").format(kpi=kpi_name, year=reiwa_label(fiscal_year)),
        unit,
        y_range=_y_range((v for trace in data for v in trace["y"]), unit, from_zero=True),
        shapes=shapes,
        xaxis=_category_axis(len(ranked), tickangle=-60),
    )
    return {"data": data, "layout": layout}
