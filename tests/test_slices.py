"""sync/slices.py: the list parameters, when a slice is (not) split, cursors inside
their ranges, the crash ordering of a narrowed bound, and — as properties over random
distributions of ``created``, schedules, crashes and vanishing cursors — that the pass
gets every customer within 1.1 x ceil(N / 100) list requests."""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sync.slices import (
    CUSTOMERS_PER_SPLIT,
    HEAD_START,
    HEAD_START_SPAN,
    PAGE,
    Plan,
    Slice,
    list_params,
)
from tests.slicing_sim import Account, check, run

T = 1_700_000_000


def request_bound(stamps: list[int]) -> int:
    """The main pass's budget: 1.1 x ceil(N/100) list requests (one for an empty
    account), plus HEAD_START when the newest page spans over HEAD_START_SPAN seconds."""
    newest = sorted(stamps, reverse=True)[:PAGE]
    wide = len(stamps) > PAGE and newest[0] - newest[-1] > HEAD_START_SPAN
    return max(1, math.floor(1.1 * math.ceil(len(stamps) / PAGE))) + HEAD_START * wide


@pytest.mark.parametrize(
    ("gte", "lt", "after", "expected"),
    [
        (None, None, None, {"limit": 100}),
        (5, None, None, {"limit": 100, "created": {"gte": 5}}),
        (None, 9, "cus_a", {"limit": 100, "created": {"lt": 9}, "starting_after": "cus_a"}),
        (5, 9, None, {"limit": 100, "created": {"gte": 5, "lt": 9}}),
    ],
    ids=["everything", "lower-bound", "upper-bound-with-cursor", "both-bounds"],
)
def test_list_params(gte, lt, after, expected):
    assert list_params(gte, lt, after) == expected


def _full_pages(plan: Plan, index: int, pages: int, start: int, step: int = 1) -> int:
    """Feed ``pages`` full pages to slice ``index``, one customer every ``step`` seconds
    downwards from ``start``; returns the next (older) stamp."""
    for p in range(pages):
        items = [
            {"id": f"cus_{index}_{p}_{k}", "created": start - (p * PAGE + k) * step}
            for k in range(PAGE)
        ]
        plan.fetched(index, plan.request(index), items, True)
    return start - pages * PAGE * step


def test_nothing_is_split_before_its_budget_allows():
    """Two slices only once 2,000 customers are in (one a second: no head start)."""
    plan = Plan.whole()
    assert plan.take() == 0
    _full_pages(plan, 0, 2 * CUSTOMERS_PER_SPLIT // PAGE - 1, T)
    assert plan.head_start == 0
    assert plan.take() is None
    _full_pages(plan, 0, 1, T - 10_000)
    assert plan.take() == 1


def test_a_long_newest_page_buys_a_head_start():
    plan = Plan.whole()
    plan.take()
    _full_pages(plan, 0, 1, T, step=HEAD_START_SPAN // 50)
    assert plan.head_start == HEAD_START
    taken = [plan.take() for _ in range(HEAD_START)]  # HEAD_START slices in all
    assert taken == [*range(1, HEAD_START), None]
    check(plan)


def test_a_split_hands_the_thief_the_lower_part_and_keeps_the_cursor_in_range():
    plan = Plan.whole()
    plan.take()
    _full_pages(plan, 0, 10, T, step=60)
    thief = plan.take()
    victim, stolen = plan.slices[0], plan.slices[thief]
    assert stolen.gte is None and stolen.lt == victim.gte
    # The victim keeps about CARVE_PAGES pages below its cursor (one customer a minute).
    last = plan._cursors[0].last
    assert victim.gte <= last
    assert last - victim.gte == pytest.approx(20 * PAGE * 60, rel=0.01)
    check(plan)


def test_a_single_second_is_never_split_its_cursor_is_followed():
    plan = Plan([Slice(T, T + 1)])
    plan.take()
    _full_pages(plan, 0, 30, T, step=0)
    assert plan.take() is None
    assert plan.request(0)["created"] == {"gte": T, "lt": T + 1}
    assert plan.request(0)["starting_after"] == "cus_0_29_99"


def test_a_slice_one_page_can_finish_is_not_split():
    # 20 pages fetched (budget for 2 splits) at one customer a second; 300 seconds left.
    plan = Plan([Slice(T - 2000 - 300, T + 1)])
    plan.take()
    _full_pages(plan, 0, 20, T)
    assert plan.take() is None


def test_a_bounded_slice_with_many_pages_left_is_halved():
    plan = Plan([Slice(T - 2000 - 5000, T + 1)])
    plan.take()
    _full_pages(plan, 0, 20, T)
    thief = plan.take()
    assert plan.slices[thief].gte == T - 7000
    assert plan.slices[thief].lt == plan.slices[0].gte
    assert plan.slices[0].gte < plan._cursors[0].last
    check(plan)


def test_a_page_asked_for_before_a_split_keeps_only_its_slices_customers():
    """The victim's request is in flight when a thief takes the lower half; the answer
    reaches into the thief's range. The victim writes only its own customers, keeps no
    cursor outside its range, and is done (a list page is contiguous)."""
    plan = Plan([Slice(T - 7000, T + 1)])
    plan.take()
    _full_pages(plan, 0, 20, T)  # customers T .. T-1999, one a second
    params = plan.request(0)  # sent; Stripe answers from before the split
    thief = plan.take()
    cut = plan.slices[0].gte
    assert plan.slices[thief].lt == cut and params["created"]["gte"] < cut
    answer = [{"id": f"cus_late_{k}", "created": T - 2000 - 50 * k} for k in range(PAGE)]
    position = plan.fetched(0, params, answer, True)
    mine = [c for c in answer if c["created"] >= cut]
    assert 0 < len(mine) < PAGE
    assert position.kept == len(mine)
    assert (position.after, position.last) == (mine[-1]["id"], mine[-1]["created"])
    assert position.done
    plan.committed(0, position)
    check(plan)
    assert plan._cursors[thief].after is None  # the thief starts without a cursor
    assert "starting_after" not in plan.request(thief)


def test_the_tail_pass_has_its_own_budget():
    plan = Plan.whole()
    plan.take()
    _full_pages(plan, 0, 40, T)
    plan.fetched(0, plan.request(0), [], False)
    plan.add_tail(T + 100)
    assert plan.take() == 1
    assert plan.take() is None  # 4,000 main-pass customers buy the tail nothing


def test_a_narrowed_bound_is_saved_only_with_the_page_fetched_under_it():
    """The cursor customer vanishes after page 2 is fetched but before it is written;
    a crash then must not leave a saved bound that skips page 2's customers."""
    account = Account.with_stamps([T - i for i in range(250)])
    plan = Plan.whole()
    committed = set()
    for _ in range(2):
        params = plan.request(0)
        items, more = account.list(params)
        position = plan.fetched(0, params, items, more)
        if not committed:
            plan.committed(0, position)
            committed.update(c["id"] for c in items)
    account.deleted.add(position.after)  # page 2's last customer, the fetch cursor
    plan.restart_at(0)
    saved = json.loads(plan.to_json())  # what another page's commit would save now
    assert saved["slices"][0]["lt"] is None
    assert saved["slices"][0]["after"] == "cus_000099"

    resumed = run(account, workers=1, rng=random.Random(0), saved=json.dumps(saved))
    live = {k[2] for k in account.live()}
    assert live <= committed | resumed.committed


def test_a_restarted_slice_saves_its_narrowed_bound_when_the_page_commits():
    account = Account.with_stamps([T - i // 3 for i in range(400)])
    plan = Plan.whole()
    params = plan.request(0)
    items, more = account.list(params)
    plan.fetched(0, params, items, more)
    plan.restart_at(0)
    params = plan.request(0)
    assert params["created"] == {"lt": items[-1]["created"] + 1}
    assert "starting_after" not in params
    items, more = account.list(params)
    plan.committed(0, plan.fetched(0, params, items, more))
    assert plan.slices[0].lt == params["created"]["lt"]
    check(plan)


def test_a_plan_saved_by_the_previous_version_resumes():
    old = {
        "floor": T - 100,
        "top": T + 1,
        "slices": [
            {"gte": None, "lt": T - 50, "after": None, "last": None, "done": True, "tail": False},
            {"gte": T - 50, "lt": None, "after": "cus_x", "last": T, "done": False, "tail": False},
        ],
    }
    plan = Plan.from_json(json.dumps(old))
    assert not plan.main_done
    assert plan.take() == 1
    assert plan.request(1) == {
        "limit": 100,
        "created": {"gte": T - 50},
        "starting_after": "cus_x",
    }


def test_progress_grows_and_stays_below_done():
    account = Account.with_stamps([T - i * 7 for i in range(3000)])
    outcome = run(account, workers=4, rng=random.Random(3))
    plan = outcome.plans[-1]
    assert plan.main_done
    assert 0 < plan.progress() <= 999


# -- properties ----------------------------------------------------------------------

# A distribution of `created`: a few clusters, each some customers spread over a width
# from one second to years, anywhere in Stripe's lifetime.
cluster = st.tuples(
    st.integers(0, 400_000_000),  # offset from 2012
    st.sampled_from([1, 2, 10, 60, 3_600, 86_400, 31_536_000, 300_000_000]),
    st.integers(0, 2_500),
)
distribution = st.lists(cluster, min_size=1, max_size=4)


def stamps_of(clusters, rng: random.Random) -> list[int]:
    base = 1_330_000_000
    return [
        base + offset + int(rng.random() * width)
        for offset, width, count in clusters
        for _ in range(count)
    ]


SIM = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SIM
@given(distribution, st.integers(1, 16), st.integers(0, 2**32), st.booleans())
# ~650 customers in bursts, in turns as real threads take them: the shape of the one
# end-to-end example that counted more than its bound (tests/test_import_reads.py).
@example([(0, 1, 300), (3_700, 10, 200), (90_000_000, 60, 150)], 16, 1, True)
@example([(0, 60, 450), (0, 1, 200)], 7, 2, True)
def test_every_customer_is_read_within_the_request_budget(clusters, workers, seed, lockstep):
    rng = random.Random(seed)
    stamps = stamps_of(clusters, rng)
    account = Account.with_stamps(stamps)
    outcome = run(account, workers=workers, rng=rng, lockstep=lockstep)
    assert outcome.committed == {k[2] for k in account.keys}
    assert outcome.requests <= request_bound(stamps)
    assert outcome.stray_cursors == []


@SIM
@given(distribution, st.integers(2, 16), st.integers(0, 2**32))
def test_no_request_carries_a_cursor_outside_its_created_range(clusters, workers, seed):
    """Splits land while requests are in flight (tests/slicing_sim.py), so a page may
    reach below its slice's new bound: its cursor must not follow it there."""
    rng = random.Random(seed)
    account = Account.with_stamps(stamps_of(clusters, rng))
    outcome = run(account, workers=workers, rng=rng)
    assert outcome.stray_cursors == []
    assert outcome.committed == {k[2] for k in account.keys}


@SIM
@given(distribution, st.integers(1, 16), st.integers(0, 2**32), st.integers(1, 400))
def test_a_crash_at_any_step_loses_nothing(clusters, workers, seed, crash_at):
    rng = random.Random(seed)
    account = Account.with_stamps(stamps_of(clusters, rng))
    outcome = run(account, workers=workers, rng=rng, crash_at=crash_at)
    assert outcome.committed == {k[2] for k in account.keys}


@SIM
@given(
    distribution,
    st.integers(1, 16),
    st.integers(0, 2**32),
    st.integers(3, 40),
    st.one_of(st.none(), st.integers(1, 400)),
)
def test_vanishing_cursors_and_crashes_lose_nothing_still_there(
    clusters, workers, seed, vanish_every, crash_at
):
    rng = random.Random(seed)
    account = Account.with_stamps(stamps_of(clusters, rng))
    outcome = run(account, workers=workers, rng=rng, crash_at=crash_at, vanish_every=vanish_every)
    assert {k[2] for k in account.live()} <= outcome.committed
