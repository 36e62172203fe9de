"""Charts for the HTML pack: one inline SVG per trend measure and per ranking, drawn with matplotlib.

SVG keeps the charts sharp on paper and needs nothing from the network; glyphs are drawn as
paths so the chart looks the same whatever fonts the reader has. The Figure API is used rather
than pyplot so no global backend or figure registry is touched.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING

from orchestration.lib.publish.packs.format import SERIES_STYLE, is_missing, value_text
from orchestration.lib.publish.packs.model import ROLES, Pack

if TYPE_CHECKING:
    from collections.abc import Iterator

    from matplotlib.figure import Figure

_DASHES = {"solid": "-", "dash": "--", "sysDot": ":"}
OTHER_COUNCILS = "#C8C8C8"


def series_label(pack: Pack, role: str) -> str:
    """The legend entry; the council's says whose figures its early years are."""
    label = pack.role_name(role)
    if role == "council":
        borrowed = sorted(y for y, s in pack.year_sources.items() if s.area_code != pack.unit.code)
        if borrowed:
            label += f" (to {borrowed[-1]}: {pack.year_sources[borrowed[-1]].area_name})"
    return label


@contextmanager
def _figure(salt: str, size: tuple[float, float]) -> Iterator[Figure]:
    """A figure whose SVG is identical on every run (a fixed salt per chart: ids differ between the
    charts sharing one page) and whose text is drawn as paths."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context({"svg.fonttype": "path", "svg.hashsalt": salt, "font.size": 9}):
        yield Figure(figsize=size, layout="constrained")


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Scale with the page: drop the fixed size, keep the viewBox.
    return re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1 width="100%"', svg, count=1)


def trend_svg(pack: Pack, measure: str) -> str:
    """An SVG element (no XML prologue) charting the measure for the council, SN, region and England."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    spec = pack.measures[measure]
    table = pack.trend(measure)
    years = list(table.index)
    borrowed = {y for y, s in pack.year_sources.items() if s.area_code != pack.unit.code}
    with _figure(f"pack-{measure}", (5.6, 3.1)) as figure:
        axes = figure.add_subplot()
        for role in reversed(ROLES):  # the council drawn last, on top
            style = SERIES_STYLE[role]
            values = list(table[role])
            axes.plot(
                years,
                values,
                color=f"#{style['colour']}",
                linestyle=_DASHES[style["dash"]],
                linewidth=style["width"] * 0.8,
                marker="o",
                markersize=5 if role == "council" else 3.5,
                label=pack.role_name(role),
                zorder=3 if role == "council" else 2,
            )
            if role == "council" and borrowed:
                # Open markers where the figures are the predecessor council's.
                early = [(y, v) for y, v in zip(years, values, strict=True) if y in borrowed and not is_missing(v)]
                axes.plot(
                    [y for y, _ in early],
                    [v for _, v in early],
                    linestyle="none",
                    marker="o",
                    markersize=5,
                    markerfacecolor="white",
                    markeredgecolor=f"#{style['colour']}",
                    zorder=4,
                )
        top = max((v for v in table.to_numpy().ravel() if not is_missing(v)), default=1.0)
        axes.set_ylim(0, top * 1.15 or 1)
        axes.set_xticks(years, [str(y) for y in years])
        axes.yaxis.set_major_locator(MaxNLocator(5))
        suffix = "%" if spec.unit == "%" else ""
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}{suffix}"))
        axes.set_title(spec.label, loc="left", fontsize=10.5, fontweight="bold")
        if spec.unit != "%":
            axes.set_ylabel(spec.unit)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        axes.spines[["top", "right"]].set_visible(False)
        # Below the plot, in the order of the table (council first), so it never hides a line.
        handles, labels = axes.get_legend_handles_labels()
        order = [labels.index(pack.role_name(role)) for role in ROLES]
        figure.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            loc="outside lower center",
            ncols=2,
            fontsize=7.5,
            frameon=False,
        )
        return _svg(figure)


def ranking_svg(pack: Pack, measure: str) -> str:
    """Every ranked council's value, best first, as DfE's LAIT shows it: this council in colour and named."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    spec = pack.measures[measure]
    table = pack.ranking_of(measure)
    own_colour = f"#{SERIES_STYLE['council']['colour']}"
    with _figure(f"ranking-{measure}", (5.6, 2.3)) as figure:
        axes = figure.add_subplot()
        colours = [own_colour if own else OTHER_COUNCILS for own in table.is_this_council]
        axes.bar(list(table["rank"]), list(table.value), width=1.0, color=colours, edgecolor="white", linewidth=0.2)
        own = table[table.is_this_council]
        if len(own):
            record = own.iloc[0]
            # The label leans inwards near either end so it stays on the chart.
            position = record["rank"] / max(record.ranked_units, 1)
            align = "left" if position <= 0.15 else "right" if position >= 0.85 else "center"
            axes.annotate(
                f"{pack.unit.name}: {value_text(spec, record.value)}, rank {record['rank']} of {record.ranked_units}",
                xy=(record["rank"], record.value),
                xytext=(0, 12),
                textcoords="offset points",
                ha=align,
                fontsize=8,
                fontweight="bold",
                color=own_colour,
                arrowprops={"arrowstyle": "-", "color": own_colour, "linewidth": 0.8},
            )
        top = max((v for v in table.value if not is_missing(v)), default=1.0)
        axes.set_ylim(0, top * 1.3 or 1)
        axes.set_xlim(0, len(table) + 1)
        axes.xaxis.set_major_locator(MaxNLocator(8, integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(4))
        suffix = "%" if spec.unit == "%" else ""
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}{suffix}"))
        axes.set_xlabel("Rank among all councils (1 = best)", fontsize=8)
        axes.set_title(spec.label, loc="left", fontsize=10.5, fontweight="bold")
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure)
