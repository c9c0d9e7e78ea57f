"""The monthly callback sample (回访抽样): which finished milestones the third-party surveyor
calls back.  Pure: plain ids in, ids out; reproducible from the month and the seed."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable


def month_seed(month: str, seed: int) -> int:
    """The random seed of a month's draw ('YYYY-MM'): the same month and seed draw the same."""
    year, number = month.split("-")
    return seed * 1_000_000 + int(year) * 100 + int(number)


def draw(candidates: Iterable[tuple[int, int]], share: float, seed: int) -> list[int]:
    """From (park id, milestone id) pairs, ``share`` of each park's milestones, at least one
    per park that has any, chosen at random with ``seed``; sorted ids."""
    by_park: dict[int, list[int]] = {}
    for park_id, milestone_id in candidates:
        by_park.setdefault(park_id, []).append(milestone_id)
    rng = random.Random(seed)
    chosen: list[int] = []
    for park_id in sorted(by_park):
        ids = sorted(set(by_park[park_id]))
        count = min(len(ids), max(1, math.ceil(share * len(ids))))
        chosen.extend(rng.sample(ids, count))
    return sorted(chosen)
