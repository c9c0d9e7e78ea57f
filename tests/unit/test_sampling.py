"""The monthly callback sample (crm/portal/sampling.py): reproducible, at least one per park
with finished milestones, the configured share of each park, nothing outside the candidates."""

import math

import pytest
from hypothesis import given, strategies as st

from crm.portal.sampling import draw, month_seed

pytestmark = pytest.mark.unit

# A milestone belongs to one park.
candidates = st.lists(st.tuples(st.integers(1, 6), st.integers(1, 500)), max_size=200,
                      unique_by=lambda pair: pair[1])


@given(candidates, st.floats(0.01, 1.0), st.integers(0, 10_000))
def test_each_park_gets_its_share_and_at_least_one(pairs, share, seed):
    chosen = draw(pairs, share, seed)
    by_park: dict[int, set[int]] = {}
    for park, milestone in pairs:
        by_park.setdefault(park, set()).add(milestone)
    assert chosen == sorted(chosen) and len(set(chosen)) == len(chosen)
    assert set(chosen) <= {m for _p, m in pairs}
    for park, ids in by_park.items():
        mine = [m for m in chosen if m in ids]
        assert len(mine) == min(len(ids), max(1, math.ceil(share * len(ids))))


def test_the_draw_is_reproducible_and_changes_with_the_month():
    pairs = [(1 + i % 3, i) for i in range(300)]
    first = draw(pairs, 0.1, month_seed("2026-11", 2026))
    assert first == draw(pairs, 0.1, month_seed("2026-11", 2026))
    assert first != draw(pairs, 0.1, month_seed("2026-12", 2026))
    assert len(first) == 3 * math.ceil(0.1 * 100)
    assert draw([(1, 7)], 0.1, 1) == [7]  # a park with one finished approval: it is called
    assert draw([], 0.1, 1) == []
    assert month_seed("2026-11", 2026) != month_seed("2026-11", 2027)
