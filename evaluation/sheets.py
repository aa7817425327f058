"""The pre-post, items and definitions sheets, laid out from disclosure-controlled values."""

from __future__ import annotations

from collections.abc import Sequence

from evaluation.disclosure import Disclosed, DisclosureRules, Hidden, SuppressionGrid
from evaluation.indicator_table import IndicatorTable
from evaluation.indicators import ALL, INDICATOR_BY_KEY, INDICATORS
from evaluation.options import ReportOptions
from evaluation.prepost import Comparison, Distribution, PrePost
from evaluation.stats import EXACT_MAX_N, PMethod, ZeroMethod, wilson
from evaluation.tables import Cell, Sheet, Style, count, number, text
from evaluation.texts import N_
from translations import Translator

FLOW = ("people_signed_up", "initial_surveys", "final_surveys", "matched_pairs")
SHARES = ("improved", "unchanged", "worse")
SHARE_LABELS = {"improved": N_("Improved"), "unchanged": N_("Unchanged"), "worse": N_("Worse")}
P_METHODS = {
    PMethod.EXACT: N_("exact"),
    PMethod.EXACT_TIES: N_("exact (ties)"),
    PMethod.NORMAL: N_("normal approximation"),
    PMethod.NONE: N_("not computed: no pair changed"),
}


def register_prepost(grid: SuppressionGrid, prepost: PrePost) -> None:
    """Put the comparison's counts (pairs, improved/unchanged/worse, answers) in the grid."""
    for kind, comparisons in (("subscale", prepost.subscales), ("item", prepost.items)):
        for c in comparisons:
            total = grid.add(("pp", kind, c.key, "n"), c.n_pairs)
            parts = [
                grid.add(("pp", kind, c.key, share), getattr(c.shares, share)) for share in SHARES
            ]
            grid.relate(total, parts)
    for d in prepost.distributions:
        total = grid.add(("dist", d.item_id, "total"), d.total)
        parts = [
            grid.add(("dist", d.item_id, value), d.counts.get(value, 0)) for value, _ in d.options
        ]
        parts.append(grid.add(("dist", d.item_id, None), d.skipped))
        grid.relate(total, parts)


def legend(t: Translator, rules: DisclosureRules) -> list[str]:
    """What the symbols in the tables mean."""
    return [
        t._("{symbol} — fewer than {n} people (hidden to protect privacy).").format(
            symbol=rules.small_symbol, n=rules.min_count
        ),
        t._(
            "x — hidden so that a number shown as {symbol} cannot be worked out from totals, "
            "or a statistic from fewer than {n} people or pairs."
        ).format(symbol=rules.small_symbol, n=rules.min_n_for_statistics),
        t._("An empty percentage: there was nothing to divide."),
    ]


def prepost_sheet(
    t: Translator,
    name: str,
    table: IndicatorTable,
    prepost: PrePost,
    disclosed: Disclosed,
    options: ReportOptions,
) -> Sheet:
    """The flow from sign-up to matched pairs, then the comparison per subscale."""
    sheet = Sheet("prepost", t._("Pre-post"))
    sheet.add(
        text(
            t._("Self-assessment before and after: {programme}").format(programme=name), Style.TITLE
        )
    )
    _questionnaire_lines(t, sheet, prepost)
    sheet.blank()
    sheet.add(text(t._("From sign-up to matched pairs"), Style.SECTION))
    sheet.add(text(t._("Step"), Style.HEADER), text(t._("People"), Style.HEADER))
    for key in FLOW:
        shown = disclosed[("ind", key, ALL, ALL)] if not table.empty else 0
        sheet.add(text(t._(INDICATOR_BY_KEY[key].label)), count(shown))
    sheet.blank()
    if not _explain_missing(t, sheet, prepost, options):
        _method_lines(
            t,
            sheet,
            options,
            t.ngettext(
                "p (Holm) is adjusted for {n} subscale tested at once (Holm's method).",
                "p (Holm) is adjusted for {n} subscales tested at once (Holm's method).",
                len(prepost.subscales),
            ).format(n=len(prepost.subscales)),
        )
        _comparison_table(t, sheet, "subscale", prepost.subscales, disclosed, options)
    sheet.blank()
    for line in legend(t, options.rules):
        sheet.add(text(line, Style.NOTE))
    sheet.widths = {0: 44, **{i: 12 for i in range(1, 34)}}
    return sheet


def items_sheet(
    t: Translator, prepost: PrePost, disclosed: Disclosed, options: ReportOptions
) -> Sheet:
    """The comparison per statement, then answers to statements asked only once."""
    sheet = Sheet("items", t._("Items"))
    sheet.add(text(t._("Single statements before and after"), Style.TITLE))
    sheet.widths = {0: 60, **{i: 12 for i in range(1, 36)}}
    if not _explain_missing(t, sheet, prepost, options):
        _method_lines(
            t,
            sheet,
            options,
            t.ngettext(
                "p (Holm) is adjusted for {n} statement tested at once (Holm's method).",
                "p (Holm) is adjusted for {n} statements tested at once (Holm's method).",
                len(prepost.items),
            ).format(n=len(prepost.items)),
        )
        _comparison_table(t, sheet, "item", prepost.items, disclosed, options)
    if prepost.distributions:
        sheet.blank()
        sheet.add(text(t._("Statements asked in one survey only"), Style.SECTION))
        for distribution in prepost.distributions:
            _distribution(t, sheet, distribution, disclosed, options.rules)
    return sheet


def _questionnaire_lines(t: Translator, sheet: Sheet, prepost: PrePost) -> None:
    q = prepost.questionnaire
    if q is not None:
        sheet.add(
            text(
                t._("Questionnaire: {title} (version {version})").format(
                    title=q.title.get(t.language), version=q.version
                ),
                Style.SUBTITLE,
            )
        )
    if len(prepost.versions) > 1:
        listed = ", ".join(
            f"{v.questionnaire_id} {v.version} ({v.responses})" for v in prepost.versions
        )
        sheet.add(
            text(
                t._(
                    "Responses were given to several questionnaire versions: {list}. "
                    "Subscales and statements are matched by their id."
                ).format(list=listed),
                Style.NOTE,
            )
        )
    if prepost.unreadable_answers:
        sheet.add(
            text(
                t.ngettext(
                    "{n} answer is not among its statement's answers and was left out.",
                    "{n} answers are not among their statement's answers and were left out.",
                    prepost.unreadable_answers,
                ).format(n=prepost.unreadable_answers),
                Style.NOTE,
            )
        )


def _explain_missing(t: Translator, sheet: Sheet, prepost: PrePost, options: ReportOptions) -> bool:
    """Say in words why there is nothing to compare; False if there is something."""
    if prepost.questionnaire is None:
        sheet.add(
            text(t._("The questionnaire cannot be read: no before/after comparison."), Style.NOTE)
        )
        return True
    if prepost.pairs == 0:
        message = (
            t._(
                "No matched pairs with the final survey in {year}: nobody has "
                "submitted both surveys."
            ).format(year=options.year)
            if options.year
            else t._(
                "No matched pairs yet: nobody has submitted both the initial and the final survey."
            )
        )
        sheet.add(text(message, Style.NOTE))
        return True
    return False


def _method_lines(t: Translator, sheet: Sheet, options: ReportOptions, holm_line: str) -> None:
    rules = options.rules
    lines = [
        t._("Only matched pairs are compared: the same person's initial and final survey."),
        _zero_text(t, options.zero_method),
        holm_line,
        t._("Statistics are shown from {n} pairs up; below that, counts only.").format(
            n=rules.min_n_for_statistics
        ),
    ]
    for line in lines:
        sheet.add(text(line, Style.NOTE))


def _zero_text(t: Translator, zero_method: ZeroMethod) -> str:
    if zero_method == "pratt":
        return t._(
            "Wilcoxon signed-rank test, two-sided; pairs with no change are ranked and "
            "then left out (Pratt's method)."
        )
    return t._(
        "Wilcoxon signed-rank test, two-sided; pairs with no change are left out of "
        "the test (Wilcoxon's method) and counted as unchanged."
    )


def comparison_headers(t: Translator, kind: str) -> list[str]:
    """Column titles of the comparison table."""
    first = (
        [t._("Subscale")]
        if kind == "subscale"
        else [t._("Statement"), t._("Statement id"), t._("Reverse-worded")]
    )
    headers = [
        *first,
        t._("Pairs"),
        t._("Before: median"),
        t._("Before: lower quartile"),
        t._("Before: upper quartile"),
        t._("Before: mean"),
        t._("After: median"),
        t._("After: lower quartile"),
        t._("After: upper quartile"),
        t._("After: mean"),
        t._("Mean change"),
        t._("Mean change: 95% CI from"),
        t._("Mean change: 95% CI to"),
        t._("Wilcoxon W+"),
        t._("p"),
        t._("p (Holm)"),
        t._("How p was computed"),
        t._("Effect size r (rank-biserial)"),
    ]
    for share in SHARES:
        label = t._(SHARE_LABELS[share])
        headers += [
            label,
            t._("{share} (%)").format(share=label),
            t._("{share}: 95% CI from (%)").format(share=label),
            t._("{share}: 95% CI to (%)").format(share=label),
        ]
    headers.append(t._("Note"))
    return headers


def _comparison_table(
    t: Translator,
    sheet: Sheet,
    kind: str,
    comparisons: Sequence[Comparison],
    disclosed: Disclosed,
    options: ReportOptions,
) -> None:
    headers = comparison_headers(t, kind)
    sheet.add(*(text(h, Style.HEADER) for h in headers))
    if not sheet.frozen_rows:
        sheet.frozen_rows, sheet.frozen_columns = len(sheet.rows), 1
    for c in comparisons:
        sheet.add(*_comparison_row(t, kind, c, disclosed, options.rules))


def _comparison_row(
    t: Translator, kind: str, c: Comparison, disclosed: Disclosed, rules: DisclosureRules
) -> list[Cell]:
    key = ("pp", kind, c.key, "n")
    cells: list[Cell] = [text(c.label(t.language))]
    if kind == "item":
        cells += [text(c.key), text(t._("yes") if c.reverse else t._("no"))]
    cells.append(count(disclosed[key]))
    statistics = c.has_statistics and not disclosed.is_hidden(key)
    if statistics and c.before and c.after and c.change and c.test:
        b, a, test = c.before, c.after, c.test
        cells += [number(v) for v in (b.median, b.q1, b.q3, b.mean, a.median, a.q1, a.q3, a.mean)]
        cells += [
            number(c.change.estimate),
            number(c.change.low),
            number(c.change.high),
            number(test.w_plus),
            number(test.p_value, Style.PVALUE),
            number(c.p_holm, Style.PVALUE),
            text(t._(P_METHODS[test.method])),
            number(test.rank_biserial),
        ]
    else:
        cells += [text(None)] * 16
    for share in SHARES:
        share_key = ("pp", kind, c.key, share)
        cells.append(count(disclosed[share_key]))
        percent = disclosed.percentage(share_key, [key]) if statistics else None
        if isinstance(percent, float):
            ci = wilson(disclosed.values[share_key], disclosed.values[key])
            cells += [
                number(percent, Style.PERCENT),
                number(100 * ci.low, Style.PERCENT),
                number(100 * ci.high, Style.PERCENT),
            ]
        else:
            cells += [number(percent if isinstance(percent, Hidden) else None, Style.PERCENT)] * 3
    note = (
        ""
        if statistics
        else t._("Fewer than {n} pairs: counts only.").format(n=rules.min_n_for_statistics)
    )
    cells.append(text(note or None, Style.NOTE))
    return cells


def _distribution(
    t: Translator, sheet: Sheet, d: Distribution, disclosed: Disclosed, rules: DisclosureRules
) -> None:
    survey = t._("final survey") if d.phase == "final" else t._("initial survey")
    sheet.blank()
    sheet.add(text(f"{d.label(t.language)} ({survey})", Style.SECTION))
    sheet.add(
        text(t._("Answer"), Style.HEADER),
        text(t._("People"), Style.HEADER),
        text(t._("Share (%)"), Style.HEADER),
    )
    total = ("dist", d.item_id, "total")
    answered = [(label(t.language), ("dist", d.item_id, value)) for value, label in d.options]
    for label, key in [*answered, (t._("No answer"), ("dist", d.item_id, None))]:
        percent = disclosed.percentage(key, [total])
        sheet.add(text(label), count(disclosed[key]), number(percent, Style.PERCENT))
    sheet.add(text(t._("Total"), Style.SECTION), count(disclosed[total]))


STAT_TERMS = (
    (
        N_("Matched pair"),
        N_(
            "One person's (participant code's) submitted initial and submitted final survey in "
            "the programme. People who answered only one survey are not compared."
        ),
    ),
    (
        N_("Median and quartiles"),
        N_(
            "The middle score, and the scores below which a quarter and three quarters of the "
            "people fall (linear interpolation, as Excel's QUARTILE.INC)."
        ),
    ),
    (
        N_("Mean change and its 95% CI"),
        N_(
            "The average of (final score − initial score); the interval is mean ± t × SD ÷ √n "
            "with Student's t for n − 1 degrees of freedom."
        ),
    ),
    (
        N_("Wilcoxon W+ and p"),
        N_(
            "W+ is the sum of the ranks of the increases. The test asks whether scores tend to "
            "move in one direction. Tied differences get mid-ranks; p is two-sided, exact for "
            "up to {n} changed pairs (with ties: the exact distribution of all sign "
            "combinations) and from the normal approximation with tie correction above."
        ),
    ),
    (
        N_("Effect size r (rank-biserial)"),
        N_(
            "(sum of ranks of increases − sum of ranks of decreases) ÷ (sum of all ranks), "
            "Kerby's formula for matched pairs: from −1 (all fell) to +1 (all rose); about "
            "0.1 is small, 0.3 medium and 0.5 large."
        ),
    ),
    (
        N_("Improved, unchanged, worse"),
        N_(
            "Pairs whose score was higher, equal or lower at the end. Reverse-worded statements "
            "are turned round before scoring, so a higher score means more of what the "
            "subscale measures; in the default questionnaire, higher is better. The 95% CI of "
            "each share is Wilson's score interval."
        ),
    ),
    (
        N_("p (Holm)"),
        N_(
            "p adjusted for testing several subscales at once (Holm's step-down method); the "
            "statements are adjusted as a separate family. Read this column to judge whether "
            "a change is more than chance."
        ),
    ),
    (
        N_("Subscale score"),
        N_(
            "The mean (or sum, as the questionnaire says) of the subscale's statements, scored "
            "only when enough of them were answered."
        ),
    ),
)


def definitions_sheet(t: Translator, rules: DisclosureRules, zero_method: ZeroMethod) -> Sheet:
    """Every indicator's and statistic's definition, and the privacy rule, in words."""
    sheet = Sheet("definitions", t._("Definitions"))
    sheet.add(text(t._("Definitions"), Style.TITLE))
    sheet.add(text(t._("Term"), Style.HEADER), text(t._("Definition"), Style.HEADER))
    sheet.frozen_rows = 2
    sheet.widths = {0: 40, 1: 110}
    sheet.add(text(t._("Indicators"), Style.SECTION))
    for indicator in INDICATORS:
        sheet.add(text(t._(indicator.label)), text(t._(indicator.definition)))
    sheet.add(text(t._("Periods"), Style.SECTION))
    sheet.add(
        text(t._("Year")),
        text(
            t._(
                "An activity and every sign-up for it belong to the calendar year (local time) in "
                "which the activity starts; a survey to the year it was submitted."
            )
        ),
    )
    sheet.add(text(t._("Pre-post"), Style.SECTION))
    for term, definition in STAT_TERMS:
        sheet.add(text(t._(term)), text(t._(definition).format(n=EXACT_MAX_N)))
    sheet.add(text(t._("Zero differences")), text(_zero_text(t, zero_method)))
    sheet.add(text(t._("Privacy"), Style.SECTION))
    sheet.add(
        text(t._("Small numbers")),
        text(
            t._(
                "Counts of fewer than {n} people are shown as {symbol}. Where a total is the sum "
                "of other cells, at least one more cell is hidden (x), so the hidden number "
                "cannot be worked out by subtraction."
            ).format(n=rules.min_count, symbol=rules.small_symbol)
        ),
    )
    sheet.add(
        text(t._("Statistics")),
        text(
            t._(
                "Means, medians, tests, effect sizes and percentages are shown from {n} people or "
                "pairs up."
            ).format(n=rules.min_n_for_statistics)
        ),
    )
    sheet.add(
        text(t._("Identity")),
        text(
            t._(
                "No names, Telegram ids or free-text answers appear in this report. Row-level "
                "data, exported only on request, carries random participant codes instead."
            )
        ),
    )
    for line in legend(t, rules):
        sheet.add(text(None), text(line, Style.NOTE))
    return sheet
