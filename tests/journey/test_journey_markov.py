"""The Markov what-if against hand-solved chains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeykit.errors import InputError
from journeykit.journey.markov import CONVERT, EXIT, START, Chain, JourneyChain

# start -> A always; A -> B 1/2, A -> exit 1/2; B -> convert 1/2, B -> A 1/4, B -> exit 1/4
COUNTS = np.array(
    [
        # start  A   B  convert exit
        [0, 8, 0, 0, 0],
        [0, 0, 8, 0, 8],
        [0, 4, 0, 8, 4],
    ],
    dtype=float,
)


def chain() -> Chain:
    return Chain.from_counts([START, "A", "B"], COUNTS, journeys=8)


def test_absorption_matches_the_hand_solution() -> None:
    # p_A = 1/2 p_B, p_B = 1/2 + 1/4 p_A  =>  p_A = 2/7, p_B = 4/7
    b = chain().absorption()
    assert np.allclose(b[:, 0], [2 / 7, 2 / 7, 4 / 7])
    assert np.allclose(b.sum(axis=1), 1.0)
    assert chain().conversion_probability() == pytest.approx(2 / 7)


def test_expected_visits_match_the_hand_solution() -> None:
    # visits to A: v_A = 1 + 1/4 v_B, v_B = 1/2 v_A  =>  v_A = 8/7, v_B = 4/7
    assert np.allclose(chain().expected_visits(), [1, 8 / 7, 4 / 7])


def test_rescue_and_extra_conversions_match_the_hand_solution() -> None:
    # rescue A with alpha = 1/2: p_A = 1/2 + 1/2 (1/2 p_B), p_B = 1/2 + 1/4 p_A
    #  =>  p_A = 1/2 + 1/8 + 1/16 p_A  =>  p_A = (5/8) / (15/16) = 2/3
    c = chain()
    q, r = c.rescue(1, 0.5)
    assert c.absorption(q, r)[1, 0] == pytest.approx(2 / 3)
    assert c.extra_conversions(1, 0.5) == pytest.approx(8 * (2 / 3 - 2 / 7))
    assert c.extra_conversions(1, 0.0) == pytest.approx(0.0)
    assert c.extra_conversions(1, 1.0) == pytest.approx(8 * (1 - 2 / 7))


def test_alpha_for_cuts_the_drop_off_of_a_first_visit() -> None:
    c = chain()
    alpha = c.alpha_for(1, 0.1)  # drop-off at A is 5/7; cut it by 0.1
    assert alpha == pytest.approx(0.1 / (5 / 7))


def test_a_state_never_left_is_an_exit() -> None:
    c = Chain.from_counts([START, "A"], np.array([[0, 3, 0, 0], [0, 0, 0, 0]]), 3)
    assert c.conversion_probability() == 0.0


def frame_of(counts: np.ndarray, states: list[str], buckets: int) -> pd.DataFrame:
    cols = [*states, CONVERT, EXIT]
    rows = []
    for b in range(buckets):
        for i, src in enumerate(states):
            for j, dst in enumerate(cols):
                if counts[i, j]:
                    rows.append({"bucket": b, "src": src, "dst": dst, "n": counts[i, j] / buckets})
    return pd.DataFrame(rows)


def test_journey_chain_answers_what_if_with_an_interval() -> None:
    states = [START, "A", "B"]
    jc = JourneyChain.from_frame(frame_of(COUNTS, states, 4), states, value=50.0)
    whole = jc.what_if("A", 0.5, replicates=50)
    assert whole.extra_conversions == pytest.approx(8 * (2 / 3 - 2 / 7))
    assert whole.low == pytest.approx(whole.extra_conversions)  # identical buckets
    assert whole.revenue == pytest.approx(50 * whole.extra_conversions)
    # a pain of excess drop-off 0.2 on all visits: cut by half -> alpha = 0.1 / (5/7)
    part = jc.what_if("A", [0.5, 1.0], excess=0.2, replicates=20)
    assert part[0].extra_conversions == pytest.approx(chain().extra_conversions(1, 0.1 * 7 / 5))
    assert part[1].extra_conversions > part[0].extra_conversions


def test_bootstrap_interval_brackets_the_point() -> None:
    rng = np.random.default_rng(3)
    states = [START, "A", "B"]
    rows = []
    for b in range(32):
        noisy = COUNTS * rng.uniform(0.5, 1.5, size=COUNTS.shape)
        rows.append(frame_of(noisy, states, 1).assign(bucket=b))
    jc = JourneyChain.from_frame(pd.concat(rows), states, value=1.0)
    w = jc.what_if("B", 0.25, replicates=200, seed=1)
    assert w.low < w.extra_conversions < w.high


def test_bad_questions_are_refused() -> None:
    states = [START, "A", "B"]
    jc = JourneyChain.from_frame(frame_of(COUNTS, states, 1), states, value=1.0)
    with pytest.raises(InputError, match="between 0 and 1"):
        jc.what_if("A", 1.5)
    with pytest.raises(LookupError, match="Known"):
        jc.what_if("Z", 0.5)
    with pytest.raises(InputError, match="first state"):
        JourneyChain.from_frame(frame_of(COUNTS, states, 1), ["A", START, "B"], value=1.0)
