"""The built-in catalog: complete, consistent, and faithful to the sheet."""

import collections

import pytest
import sympy as sp

from symml.catalog.model import Derivative, Status
from symml.catalog.sheet_source import part_titles, sheet_lines
from symml.catalog.symbols import matches, referenced
from symml.render.serialize import from_srepr


def test_catalog_covers_all_fourteen_parts_with_at_least_110_entries(catalog):
    assert len(catalog) >= 110
    assert sorted({f.part for f in catalog}) == list(range(1, 15))
    assert [n for n, _ in catalog.parts] == list(range(1, 15))


def test_part_titles_match_the_sheet(catalog, sheet_text):
    titles = part_titles(sheet_text)
    for number, title in catalog.parts:
        assert title.casefold() == titles[number].casefold(), number


def test_ids_are_unique(catalog):
    counts = collections.Counter(f.id for f in catalog)
    assert [i for i, c in counts.items() if c > 1] == []


def test_every_sheet_line_of_every_part_maps_to_an_entry(catalog, sheet_text):
    recorded = collections.defaultdict(set)
    for formula in catalog:
        recorded[formula.part].update(formula.sheet_lines())
    missing = [
        f"part {line.part}, line {line.number}: {line.text}"
        for line in sheet_lines(sheet_text)
        if line.text not in recorded[line.part]
    ]
    assert missing == []


def test_entries_record_only_text_that_is_on_the_sheet(catalog, sheet_text):
    on_sheet = collections.defaultdict(set)
    for line in sheet_lines(sheet_text, titles=True):
        on_sheet[line.part].add(line.text)
    invented = [
        (f.id, text) for f in catalog for text in f.sheet_lines() if text not in on_sheet[f.part]
    ]
    assert invented == []


def test_every_symbol_used_is_declared_in_the_entry(catalog):
    for formula in catalog:
        exprs = [formula.expr, formula.lhs]
        for claim in formula.claims:
            exprs += claim.expressions()
            if isinstance(claim, Derivative):
                exprs.append(claim.wrt)
        for used in referenced(exprs):
            assert any(matches(s.symbol, used) for s in formula.symbols), (formula.id, used)


def test_declared_symbols_are_all_used(catalog):
    for formula in catalog:
        used = referenced(
            [
                formula.expr,
                formula.lhs,
                *(e for c in formula.claims for e in c.expressions()),
                *(c.wrt for c in formula.claims if isinstance(c, Derivative)),
            ]
        )
        for spec in formula.symbols:
            assert any(matches(spec.symbol, u) for u in used), (formula.id, spec.name)


def test_domains_agree_with_assumptions(catalog):
    for formula in catalog:
        for spec in formula.symbols:
            symbol = spec.symbol
            if not isinstance(symbol, sp.Symbol):
                continue
            if symbol.is_positive:
                assert not spec.domain.contains(0) and not spec.domain.contains(-1), spec
            if symbol.is_integer:
                assert spec.domain.integer or spec.domain.values, spec


def test_claims_with_errata_carry_their_correction_data(catalog):
    for formula in catalog:
        for claim in formula.claims:
            if claim.expected is Status.REFUTED:
                assert claim.correction is not None, formula.id
            if claim.expected is Status.CONDITIONAL:
                assert claim.conditions, formula.id
            if claim.expected is Status.AMBIGUOUS:
                assert len(claim.readings) >= 2, formula.id


def test_srepr_round_trips(catalog):
    for formula in catalog:
        exprs = [formula.expr, formula.lhs, *(e for c in formula.claims for e in c.expressions())]
        for expr in exprs:
            if not isinstance(expr, sp.Basic):
                continue
            rebuilt = from_srepr(sp.srepr(expr))
            assert sp.srepr(rebuilt) == sp.srepr(expr), formula.id


def test_sheet_errata_are_recorded_as_the_sheet_states_them(catalog):
    nesterov = catalog.get("optim.nesterov_step")
    rule = [c for c in nesterov.claims if c.kind.value == "update_rule"][0]
    assert rule.expected is Status.REFUTED
    assert "∂L/∂W(W - β·v)" in rule.sheet
    warmup = catalog.get("schedules.warmup")
    assert any(c.expected is Status.REFUTED for c in warmup.claims)


@pytest.mark.parametrize("part", range(1, 15))
def test_each_part_keeps_its_own_symbol_objects(catalog, part):
    """Sections never share symbol specs across parts (tables are per part)."""
    mine = {id(s) for f in catalog.part(part) for s in f.symbols}
    others = {id(s) for f in catalog if f.part != part for s in f.symbols}
    assert not mine & others
