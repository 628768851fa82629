"""An account's Stripe budget kept in Redis: one small hash per account holding the
next free slot, the current rate and when it was last cut, changed only by one Lua
script so that every reservation and every AIMD step is atomic across processes.

Why a script and not a counter library (``limits``' moving window, say): virtual
scheduling hands each caller its own future slot, so waiting callers queue in order
without polling, and the AIMD rate lives in the same hash as the slots it spaces.
Redis's clock (``TIME``) is the one clock all hosts share.
"""

from __future__ import annotations

import threading

import redis

# Keys are "<JOBS_QUEUE>:pace:<account>": deployments (and test runs) sharing one Redis
# keep their budgets apart, as their queues and throttles are.
KEY_PREFIX = "{namespace}:pace:"
IDLE_EXPIRY = 3600  # seconds: an account nobody paced for an hour starts afresh

_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ceiling, burst, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate') or ceiling)
local op = ARGV[4]
local wait, slot = 0, now
if op == 'reserve' then
  local nxt = tonumber(redis.call('HGET', KEYS[1], 'next') or now)
  slot = math.max(nxt, now - burst / rate)
  wait = slot - now
  redis.call('HSET', KEYS[1], 'next', string.format('%.6f', slot + 1 / rate))
elseif op == 'throttled' then
  local cut = tonumber(redis.call('HGET', KEYS[1], 'cut') or 0)
  if now - cut >= 1 then
    rate = math.max(floor, rate / 2)
    redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'cut', string.format('%.6f', now))
  end
elseif rate < ceiling then
  rate = math.min(ceiling, rate + 1)
  redis.call('HSET', KEYS[1], 'rate', tostring(rate))
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {string.format('%.6f', wait), string.format('%.6f', slot), tostring(rate)}
"""

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def client_for(url: str) -> redis.Redis:
    """One connection pool per Redis URL in this process."""
    with _clients_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url)
        return _clients[url]


class RedisBudget:
    """One account's budget. ``ceiling``, ``burst`` and ``floor`` are this caller's
    settings; the rate and the slots are everyone's."""

    def __init__(
        self,
        url: str,
        account: str,
        *,
        ceiling: float,
        burst: float,
        floor: float,
        namespace: str = "shingleai",
    ):
        self.key = KEY_PREFIX.format(namespace=namespace) + account
        self.args = (ceiling, burst, floor)
        self.script = client_for(url).register_script(_SCRIPT)

    def _call(self, op: str) -> tuple[float, float, float]:
        wait, slot, rate = self.script(keys=[self.key], args=[*self.args, op, IDLE_EXPIRY])
        return float(wait), float(slot), float(rate)

    def reserve(self) -> tuple[float, float, float]:
        """Take the next slot: (seconds to wait, the slot in Redis time, the rate)."""
        return self._call("reserve")

    def throttled(self) -> float:
        """A 429: halve the shared rate (once a second at most); returns the rate."""
        return self._call("throttled")[2]

    def succeeded(self) -> float:
        """A success: one request per second back towards the ceiling."""
        return self._call("succeeded")[2]
