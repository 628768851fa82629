"""One Stripe budget per connected account: every caller in a process shares one
bucket, and over Redis every process does — separate limiters for one account never
exceed the budget together, and a 429 seen by one slows them all (AIMD)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import uuid

import pytest

from sync.pacing import RedisBucket, TokenBucket, bucket_for
from tests.scale_support import ROOT, redis_url

__all__ = ["redis_url"]

RATE = 20.0

# Runs in a separate process: its own limiter, its own Redis connection.
_ACQUIRE = """
import json, sys
from sync.pacing import RedisBucket
bucket = RedisBucket(sys.argv[1], sys.argv[2], float(sys.argv[3]), floor=1.0)
print(json.dumps([bucket.acquire() for _ in range(int(sys.argv[4]))]))
"""


def _assert_spaced(slots: list[float], rate: float) -> None:
    """Granted slots are at least 1/rate apart: at most ``rate`` requests in any
    second (plus the one-request burst)."""
    slots = sorted(slots)
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert min(gaps) >= 1 / rate - 1e-5, min(gaps)


def test_two_processes_with_their_own_limiters_share_one_budget(redis_url):
    account = f"acct_{uuid.uuid4().hex[:12]}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _ACQUIRE, redis_url, account, str(RATE), "15"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    slots = []
    for process in processes:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        slots += json.loads(out)
    assert len(slots) == 30
    _assert_spaced(slots, RATE)


def test_separate_buckets_without_redis_would_exceed_it():
    """The check above can fail: two unshared buckets grant slots side by side."""
    first, second = TokenBucket(RATE), TokenBucket(RATE)
    slots = [first.acquire() for _ in range(5)] + [second.acquire() for _ in range(5)]
    with pytest.raises(AssertionError):
        _assert_spaced(slots, RATE)


def test_a_429_seen_by_one_limiter_halves_the_rate_of_all(redis_url):
    account = f"acct_{uuid.uuid4().hex[:12]}"
    first = RedisBucket(redis_url, account, RATE, floor=1.0)
    second = RedisBucket(redis_url, account, RATE, floor=1.0)
    first.throttled()
    first.throttled()  # the same overload: one cut per second at most
    second.acquire()
    assert second.rate == RATE / 2
    second.succeeded()
    assert first.budget.reserve()[2] == RATE / 2 + 1  # additive increase, shared too


@pytest.mark.parametrize("redis", [False, True], ids=["in-process", "redis"])
def test_every_caller_for_one_account_gets_the_same_budget(redis_url, redis):
    config = {"STRIPE_RATE_LIMIT": 25, "REDIS_URL": redis_url if redis else ""}
    account = f"acct_{uuid.uuid4().hex[:12]}"
    import_bucket = bucket_for(config, account=account, livemode=False)
    tie_fetch_bucket = bucket_for(config, account=account, livemode=False)
    other = bucket_for(config, account=f"{account}x", livemode=False)
    assert import_bucket is tie_fetch_bucket
    assert other is not import_bucket
    assert isinstance(import_bucket, RedisBucket) is redis
    assert import_bucket.rate == 25 * 0.9


def test_a_rate_limit_of_zero_turns_pacing_off():
    bucket = bucket_for({"STRIPE_RATE_LIMIT": 0}, account="acct_x", livemode=False)
    assert bucket.acquire() is None
