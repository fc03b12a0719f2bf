"""A Markov model of the journey, and what-if questions on it.

States are the touchpoints (plus ``(start)`` and ``(other)`` for events no touchpoint takes);
``(convert)`` and ``(exit)`` absorb. Transition counts come from consecutive events of each
person's journey up to the first goal event (read off ``prev_event``, a scan: no sort), the
person's last event leading to ``(exit)`` when they never converted.

With ``Q`` the transient-to-transient and ``R`` the transient-to-absorbing probabilities, the
fundamental matrix ``N = (I - Q)^-1`` gives the expected visits and ``B = N R`` the absorption
probabilities; the expected conversions of ``n`` journeys are ``n * B[start, convert]``.

What-if: "the drop-off at state ``x`` falls by ``p``" gives every visit to ``x`` an extra chance
``alpha`` to convert: ``x``'s row becomes ``(1 - alpha) * row + alpha * e_convert``. For a pain
point measured as an excess drop-off ``e`` among a share ``s`` of the visits to ``x``,
``alpha = p * s * e / (1 - B[x, convert])``: the pain's excess falls by ``p``. Uncertainty comes
from a bootstrap over people: they are dealt into buckets by a hash of their id, and each
replicate refits the chain on buckets drawn with replacement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journeykit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

START, OTHER, CONVERT, EXIT = "(start)", "(other)", "(convert)", "(exit)"


@dataclass(frozen=True)
class Chain:
    """An absorbing Markov chain.

    Attributes:
        states: transient state names; ``states[0]`` is where journeys start.
        Q: transient-to-transient transition probabilities (rows may sum below 1).
        R: transient-to-absorbing probabilities, columns ``(convert)``, ``(exit)``.
        journeys: how many journeys the counts came from.
    """

    states: tuple[str, ...]
    Q: np.ndarray
    R: np.ndarray
    journeys: float

    @classmethod
    def from_counts(cls, states: Sequence[str], counts: np.ndarray, journeys: float) -> Chain:
        """A chain from counts: ``counts[i, j]`` moves from transient ``i`` to column ``j``.

        Columns are the transient states, then ``(convert)``, then ``(exit)``. A state never
        left (a row of zeros) is treated as an exit.

        >>> c = Chain.from_counts(["s", "a"], np.array([[0, 4, 0, 0], [0, 0, 1, 3]]), 4)
        >>> round(c.conversion_probability(), 3)
        0.25
        """
        counts = np.asarray(counts, dtype=float)
        k = len(states)
        if counts.shape != (k, k + 2):
            raise InputError(f"counts must be {k} x {k + 2}, not {counts.shape}", field="counts")
        totals = counts.sum(axis=1)
        empty = totals == 0
        counts = counts.copy()
        counts[empty, k + 1] = 1.0
        totals = counts.sum(axis=1)
        probs = counts / totals[:, None]
        return cls(tuple(states), probs[:, :k], probs[:, k:], float(journeys))

    def absorption(self, Q: np.ndarray | None = None, R: np.ndarray | None = None) -> np.ndarray:
        """``B = (I - Q)^-1 R``: from each transient state, the chance to end in each absorber."""
        Q = self.Q if Q is None else Q
        R = self.R if R is None else R
        eye = np.eye(len(self.states))
        return np.linalg.solve(eye - Q, R)

    def expected_visits(self) -> np.ndarray:
        """Expected visits to each transient state per journey (row ``start`` of ``N``)."""
        eye = np.eye(len(self.states))
        start = np.zeros(len(self.states))
        start[0] = 1.0
        return np.linalg.solve((eye - self.Q).T, start)

    def conversion_probability(self) -> float:
        """The chance that a journey converts."""
        return float(self.absorption()[0, 0])

    def rescue(self, state: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """``(Q, R)`` with every visit to ``state`` converting with an extra chance ``alpha``."""
        alpha = float(min(max(alpha, 0.0), 1.0))
        Q, R = self.Q.copy(), self.R.copy()
        Q[state] *= 1.0 - alpha
        R[state] *= 1.0 - alpha
        R[state, 0] += alpha
        return Q, R

    def alpha_for(self, state: int, drop_cut: float) -> float:
        """The rescue chance at ``state`` that lowers its drop-off ``1 - B[state, convert]`` by
        ``drop_cut`` (an absolute amount) on a first visit."""
        drop = 1.0 - float(self.absorption()[state, 0])
        if drop <= 0:
            return 0.0
        return min(1.0, max(0.0, drop_cut / drop))

    def extra_conversions(self, state: int, alpha: float) -> float:
        """Expected extra conversions over all journeys when ``state`` is rescued by ``alpha``."""
        Q, R = self.rescue(state, alpha)
        after = float(self.absorption(Q, R)[0, 0])
        return self.journeys * (after - self.conversion_probability())


@dataclass(frozen=True)
class WhatIf:
    """The answer to "if this drop-off fell by ``reduction``".

    Attributes:
        reduction: the relative fall of the pain's drop-off (0.5 = halved).
        extra_conversions: expected extra conversions (point estimate).
        low, high: bootstrap interval of the extra conversions.
        revenue, revenue_low, revenue_high: the same times the expected value of a conversion.
    """

    reduction: float
    extra_conversions: float
    low: float
    high: float
    revenue: float
    revenue_low: float
    revenue_high: float


@dataclass(frozen=True)
class JourneyChain:
    """Bucketed transition counts: the chain and its bootstrap replicates.

    Attributes:
        states: transient states (``(start)`` first).
        counts: array ``(buckets, k, k + 2)`` of moves per bucket of people.
        journeys: journeys per bucket.
        value: expected value of one conversion.
    """

    states: tuple[str, ...]
    counts: np.ndarray
    journeys: np.ndarray
    value: float

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, states: Sequence[str], value: float) -> JourneyChain:
        """From rows ``bucket``, ``src``, ``dst``, ``n`` (state names; ``dst`` may be absorbing).

        The journeys of a bucket are its moves out of ``(start)``.
        """
        states = tuple(states)
        if not states or states[0] != START:
            raise InputError("the first state must be (start)", field="states")
        index = {s: i for i, s in enumerate(states)}
        k = len(states)
        col = {**index, CONVERT: k, EXIT: k + 1}
        buckets = int(frame["bucket"].max()) + 1 if len(frame) else 1
        counts = np.zeros((buckets, k, k + 2))
        src = frame["src"].astype(str).map(index)
        dst = frame["dst"].astype(str).map(col)
        bad = src.isna() | dst.isna()
        if bad.any():
            row = frame[bad].iloc[0]
            raise InputError(f"unknown state in move {row.src!r} -> {row.dst!r}", field="states")
        if len(frame):
            where = (frame["bucket"].to_numpy(int), src.to_numpy(int), dst.to_numpy(int))
            np.add.at(counts, where, frame["n"].to_numpy(float))
        journeys = counts[:, 0, :].sum(axis=1)
        return cls(states, counts, journeys, float(value))

    def chain(self, weights: np.ndarray | None = None) -> Chain:
        """The chain fitted on all buckets, or on buckets weighted by ``weights``."""
        w = np.ones(len(self.counts)) if weights is None else weights
        counts = np.tensordot(w, self.counts, axes=1)
        return Chain.from_counts(self.states, counts, float(w @ self.journeys))

    def state(self, name: str) -> int:
        """Index of a state."""
        try:
            return self.states.index(name)
        except ValueError:
            from journeykit.errors import NotFound

            raise NotFound("state", name, list(self.states)) from None

    def what_if(
        self,
        state: str,
        reduction: float | Sequence[float],
        *,
        excess: float | None = None,
        share: float = 1.0,
        excess_se: float = 0.0,
        replicates: int = 200,
        seed: int = 0,
        level: float = 0.95,
    ) -> WhatIf | tuple[WhatIf, ...]:
        """Expected extra conversions and revenue if the drop-off at ``state`` fell by ``reduction``.

        Args:
            state: the touchpoint state.
            reduction: relative fall of the drop-off, 0-1; a sequence answers for each (with
                one bootstrap), giving a tuple.
            excess: the pain's excess drop-off (absolute, among the affected visits); ``None``
                means the whole drop-off of the state.
            share: share of the state's visits the pain affects.
            excess_se: standard error of ``excess`` (drawn anew in each replicate).
            replicates: bootstrap replicates.
            seed: random seed of the bootstrap.
            level: interval level.
        """
        many = not isinstance(reduction, int | float)
        cuts = (
            [float(reduction)]
            if isinstance(reduction, int | float)
            else [float(r) for r in reduction]
        )
        for r in cuts:
            if not 0 <= r <= 1:
                raise InputError("must be between 0 and 1", field="reduction")
        i = self.state(state)
        rng = np.random.default_rng(seed)

        def answers(chain: Chain, exc: float | None) -> list[float]:
            base = float(chain.absorption()[0, 0])
            drop = 1.0 - float(chain.absorption()[i, 0]) if exc is not None else 0.0
            out = []
            for r in cuts:
                if exc is None:
                    alpha = r
                else:
                    alpha = 0.0 if drop <= 0 else min(1.0, r * share * max(exc, 0.0) / drop)
                Q, R = chain.rescue(i, alpha)
                out.append(chain.journeys * (float(chain.absorption(Q, R)[0, 0]) - base))
            return out

        point = answers(self.chain(), excess)
        n = len(self.counts)
        draws = []
        for _ in range(replicates):
            weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            exc = None if excess is None else float(rng.normal(excess, excess_se))
            draws.append(answers(self.chain(weights), exc))
        tail = (1 - level) / 2
        grid = np.array(draws) if draws else np.array([point])
        lows = np.quantile(grid, tail, axis=0)
        highs = np.quantile(grid, 1 - tail, axis=0)
        v = self.value
        results = tuple(
            WhatIf(r, p, float(lo), float(hi), p * v, float(lo) * v, float(hi) * v)
            for r, p, lo, hi in zip(cuts, point, lows, highs, strict=True)
        )
        return results if many else results[0]
