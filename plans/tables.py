"""django-tables2 tables for the dashboards: rows are ``KpiResult``s built by plans.results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tables2.utils import signature

from plans.fiscal import month_label
from plans.formatting import EMPTY, format_figure
from plans.results import KpiResult
from plans.rules import PROJECTION_METHOD_LABELS, Mark
from plans.selectors import PublishedColumns

NO_COLUMNS = PublishedColumns()


def _figure(result: KpiResult, value: Any) -> str:
    return format_figure(value, result.kpi.unit, result.target.precision)


def _resolve(record: Any, path: tuple[str, ...]) -> Any:
    """What django-tables2's ``Accessor.resolve`` gives for a ``KpiResult`` (attributes, callables called), or
    None when a step is missing (e.g. ``projection__value`` without a projection), as its rows do."""
    current = record
    try:
        for bit in path:
            current = getattr(current, bit)
            if callable(current) and not getattr(current, "alters_data", False):
                current = current()
    except Exception:  # noqa: BLE001 (django-tables2 shows the column's default for any failed lookup)
        return None
    return current


#: Per table class and column name: the column's ``<td>`` attributes as HTML, accessor path and render arguments
#: (``KpiResultTable._cell_plan``), for the columns ``_cell_statics_kept`` allows.
_CELL_STATICS: dict[tuple[type, str], tuple[str, tuple[str, ...], frozenset[str] | None]] = {}


def _cell_statics_kept(table: tables.Table, column: Any) -> bool:
    """Whether ``column``'s ``<td>`` attributes, accessor and render arguments are the same for every table of
    ``table``'s class, so they may be kept per class: the column is the class's own (not one of this table's
    ``extra_columns``), the table adds no ``td`` or ``cell`` attributes of its own (``attrs=``), works out no class
    names itself, and no attribute is computed by a callable (django-tables2 calls it with the table)."""
    own = type(table).base_columns.get(column.name)
    if own is None or own.creation_counter != column.column.creation_counter:
        return False
    if "td" in table.attrs or "cell" in table.attrs:
        return False
    if type(table).get_column_class_names is not tables.Table.get_column_class_names:
        return False
    values = [v for part in ("td", "cell") for v in dict(column.column.attrs.get(part) or {}).values()]
    return not any(callable(v) for v in values)


class KpiResultTable(tables.Table):
    """One branch's KPIs for one fiscal year (支部のKPI一覧), with every column of the table branches publish
    (事業計画実施状況): the two previous years' actuals, target, actual, mark, national average, next year's
    target and 備考 (``published``: ``selectors.published_columns``)."""

    area = tables.Column(
        _("分野"),
        accessor="target__measure__area__number",
        default=EMPTY,
        attrs={"td": {"class": "area"}, "th": {"class": "area"}},
    )
    measure = tables.Column(
        _("施策"),
        accessor="target__measure__title",
        default=EMPTY,
        attrs={"td": {"class": "measure"}, "th": {"class": "measure"}},
    )
    group = tables.Column(
        _("担当"),
        accessor="target__measure__group",
        default=EMPTY,
        attrs={"td": {"class": "group"}, "th": {"class": "group"}},
    )
    kpi = tables.Column(
        _("KPI"),
        accessor="name",
        order_by=("target__kpi__order",),
        empty_values=(),
        attrs={"td": {"class": "kpi"}, "th": {"class": "kpi"}},
    )
    two_years_ago = tables.Column(
        _("前々年度実績"), accessor="kpi__pk", orderable=False, empty_values=(), attrs={"td": {"class": "num"}}
    )
    last_year = tables.Column(
        _("前年度実績"), accessor="kpi__pk", orderable=False, empty_values=(), attrs={"td": {"class": "num"}}
    )
    target_text = tables.Column(
        _("目標"), accessor="target__target_text", default=EMPTY, empty_values=(), attrs={"td": {"class": "target"}}
    )
    baseline = tables.Column(
        _("基準値（前年度）"), accessor="baseline", default=EMPTY, empty_values=(), attrs={"td": {"class": "num"}}
    )
    latest = tables.Column(_("直近実績"), accessor="latest", default=EMPTY, attrs={"td": {"class": "num"}})
    year_end = tables.Column(_("年度末実績"), accessor="year_end", default=EMPTY, attrs={"td": {"class": "num"}})
    national_average = tables.Column(
        _("全国平均"), accessor="national_average", default=EMPTY, attrs={"td": {"class": "num"}}
    )
    mark = tables.Column(
        _("評価"), accessor="mark", default=EMPTY, order_by=("mark_rank",), attrs={"td": {"class": "mark"}}
    )
    projection = tables.Column(
        _("年度末見込み"), accessor="projection__value", default=EMPTY, attrs={"td": {"class": "num"}}
    )
    next_year_target = tables.Column(_("翌年度目標"), accessor="kpi__pk", orderable=False, empty_values=())
    remark = tables.Column(
        _("備考"), accessor="kpi__pk", orderable=False, empty_values=(), attrs={"td": {"class": "remark"}}
    )

    def __init__(
        self,
        *args: Any,
        branch_code: str,
        year: int,
        published: Mapping[int, PublishedColumns] | None = None,
        **kwargs: Any,
    ) -> None:
        self.branch_code = branch_code
        self.year = year
        self.published: Mapping[int, PublishedColumns] = published or {}
        #: Rows already rendered, by KPI target id (``body_html`` uses them as they are), and the rows it
        #: rendered itself: a view may keep these in a cache and hand them back as ``known_rows``.
        self.known_rows: Mapping[int, str] = {}
        self.rendered_rows: dict[int, str] = {}
        #: The ``<thead>`` as rendered already (a view may keep it: it depends only on the language and the query
        #: string, which holds the sort order); empty: plans/_kpi_table.html renders plans/_kpi_table_head.html.
        self.head_html = ""
        super().__init__(*args, **kwargs)

    def body_html(self) -> str:
        """The ``<tr>`` rows of the table body (plans/_kpi_table.html): each cell as django-tables2 computes it in
        ``BoundRow.items()`` (the accessor's value, the column's empty values and default, the ``render_*`` method
        called with the arguments it names; a test compares the two), localized and escaped as ``{{ cell }}``
        would be. Each column's ``<td>`` attributes, accessor path and render arguments are worked out once per
        column, not once per cell, and the rows are joined without a template loop: the cells were about half
        of the page's time. A row in ``known_rows`` is taken as it is, and the columns are worked out only when a
        row is not (after a save, most rows are known)."""
        plan: list[tuple[Any, str, tuple[str, ...], frozenset[str] | None]] = []
        rows = []
        for row in self.rows:
            record = row.record
            known = self.known_rows.get(record.target.pk)
            if known is not None:
                rows.append(known)
                continue
            if not plan:
                plan = self._cell_plan()
            cells = []
            for column, td, path, wanted in plan:
                value = _resolve(record, path)
                if value in column.column.empty_values:
                    cell = column.default
                else:
                    arguments = {
                        "value": value,
                        "record": record,
                        "column": column.column,
                        "bound_column": column,
                        "bound_row": row,
                        "table": self,
                    }
                    if wanted is not None:
                        arguments = {name: arguments[name] for name in wanted}
                    cell = column.render(**arguments)
                cells.append(f"<td {td}>{conditional_escape(localize(cell))}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
            self.rendered_rows[record.target.pk] = rows[-1]
        return mark_safe("\n".join(rows))  # noqa: S308 (every cell is escaped above; the attributes by django-tables2)

    def _cell_plan(self) -> list[tuple[Any, str, tuple[str, ...], frozenset[str] | None]]:
        """Per column: the bound column, its ``<td>`` attributes as HTML, its accessor's path and the render
        arguments it names (None: it takes any). The last three are kept per table class and column where they
        depend only on the class (``_cell_statics_kept``), and are neither read from nor put in that store elsewhere."""
        plan = []
        for column in self.columns:
            key = (type(self), column.name)
            kept = _cell_statics_kept(self, column)
            static = _CELL_STATICS.get(key) if kept else None
            if static is None:
                wanted, catch_all = signature(column.render)
                path = tuple(str(column.accessor).replace(".", "__").split("__"))
                static = (column.attrs["td"].as_html(), path, None if catch_all else frozenset(wanted))
                if kept:
                    _CELL_STATICS[key] = static
            plan.append((column, *static))
        return plan

    def columns_of(self, record: KpiResult) -> PublishedColumns:
        return self.published.get(record.kpi.pk, NO_COLUMNS)

    class Meta:
        attrs = {"class": "kpi-table"}
        template_name = "plans/_kpi_table.html"
        orderable = True
        empty_text = _("この条件に合うKPIはありません。")
        sequence = (
            "area",
            "measure",
            "group",
            "kpi",
            "two_years_ago",
            "last_year",
            "target_text",
            "baseline",
            "latest",
            "year_end",
            "mark",
            "national_average",
            "projection",
            "next_year_target",
            "remark",
        )

    def render_area(self, value: int) -> str:
        return str(value)

    def render_kpi(self, record: KpiResult) -> str:
        args = [self.branch_code, self.year, record.kpi.code]
        deleted = self.columns_of(record).deleted_next_year
        note = format_html('<span class="note">{}</span>', gettext("翌年度削除")) if deleted else ""
        history = format_html(
            ' <a class="history-link" href="{}">{}</a>', reverse("kpi_history", args=args), gettext("履歴")
        )
        return format_html('<a href="{}">{}</a>{}{}', reverse("kpi_detail", args=args), record.name, note, history)

    def render_two_years_ago(self, record: KpiResult) -> str:
        return _figure(record, self.columns_of(record).two_years_ago)

    def render_last_year(self, record: KpiResult) -> str:
        return _figure(record, self.columns_of(record).last_year)

    def render_target_text(self, value: str, record: KpiResult) -> str:
        change = self.columns_of(record).definition_change
        marker = format_html('<span class="change">{}</span>', gettext(change)) if change else ""
        return format_html("{}{}", value or EMPTY, marker)

    def render_next_year_target(self, record: KpiResult) -> str:
        columns = self.columns_of(record)
        if columns.deleted_next_year:
            return format_html('<span class="change">{}</span>', gettext("削除"))
        if not columns.has_next_plan:
            return EMPTY
        marker = columns.next_year_definition_change
        marker_html = format_html('<span class="change">{}</span>', gettext(marker)) if marker else ""
        return format_html("{}{}", marker_html, columns.next_year_target or EMPTY)

    def render_remark(self, record: KpiResult) -> str:
        return self.columns_of(record).shown_remark or EMPTY

    def render_baseline(self, value: Any, record: KpiResult) -> str:
        if record.baseline_note:  # last year's figure is from before a definition change: not a baseline
            return format_html('<span class="change">{}</span>', gettext(record.baseline_note))
        return _figure(record, value)

    def render_latest(self, value: Any, record: KpiResult) -> str:
        as_of = gettext("{month}時点").format(month=month_label(record.latest_month))
        return format_html('{}<span class="as-of">{}</span>', _figure(record, value), as_of)

    def render_year_end(self, value: Any, record: KpiResult) -> str:
        return _figure(record, value)

    def render_national_average(self, value: Any, record: KpiResult) -> str:
        return _figure(record, value)

    def render_mark(self, value: Mark) -> str:
        return format_html('<span class="mark {}" title="{}">{}</span>', value.css, gettext(value.label), value)

    def render_projection(self, value: Any, record: KpiResult) -> str:
        projection = record.projection
        assert projection is not None
        reading = {
            True: ("on-track", gettext("達成見込み")),
            False: ("at-risk", gettext("未達のおそれ")),
            None: ("", ""),
        }[projection.on_track]
        return format_html(
            '<span class="projection {}" title="{}">{}<small>{}</small></span>',
            reading[0],
            gettext("{method}（公式の評価ではありません）").format(
                method=gettext(PROJECTION_METHOD_LABELS[projection.method])
            ),
            _figure(record, value),
            reading[1],
        )
