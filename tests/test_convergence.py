"""The convergence proof: whatever happens — customers created, changed and deleted
many times a second, deliveries dropped, duplicated, reordered or held back, Stripe
failing while a tie is settled, imports killed between pages and resumed with changes
made meanwhile, reconnects and switches between two accounts — once the faults end
and catch-up has run, every row equals Stripe, and no row of another account was
written.

A Hypothesis state machine drives the real pieces (tests/convergence_support.py): the
sandbox over HTTP through the official library, the app's signed webhook endpoint, its
Connect pages, and its importer run as a worker would. The suite runs a small,
derandomized budget; ``pytest --hypothesis-profile=convergence-long
tests/test_convergence.py`` explores far more (the profile is in tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from models.stripe_account import StripeAccount
from stripe_sandbox.testing import SandboxServer
from tests.convergence_support import Collector, ProcessKilled, World
from tests.import_support import FAST
from tests.webhooks_support import SECRET, webhook_app

LONG_PROFILE = "convergence-long"
SUITE = settings(
    max_examples=6,
    stateful_step_count=18,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

NAMES = st.sampled_from(["Ada", "Bo", "Cy", "Dee", "Eve"])
CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "name": NAMES,
        "email": st.sampled_from(["a@x.example", "b@x.example", "c@y.example"]),
        "phone": st.sampled_from(["+15550001", "+15550002"]),
        "metadata": st.fixed_dictionaries({"tier": st.sampled_from(["gold", "tin"])}),
    },
).filter(bool)
FATES = st.sampled_from(["deliver", "deliver", "duplicate", "drop", "later"])


def run_settings() -> settings:
    """The suite's budget, unless the long profile was asked for."""
    if settings.get_current_profile_name() == LONG_PROFILE:
        return settings()
    return SUITE


class Convergence(RuleBasedStateMachine):
    """One example: a business linked to account A of two, and a stream of faults."""

    make_world = None  # set by the test: () -> World

    def __init__(self):
        super().__init__()
        self.world: World = type(self).make_world()

    def _account(self, other: bool) -> str | None:
        """The linked account, or the other one; None when we have no access to it."""
        world = self.world
        account = next(a for a in world.accounts if (a != world.current) is other)
        return account if world.granted[account] else None

    # -- changes in Stripe ------------------------------------------------------------
    @rule(n=st.integers(1, 3), other=st.booleans(), tag=st.integers(0, 999))
    def create(self, n, other, tag):
        account = self._account(other)
        if account is None:
            return
        for i in range(n):
            self.world.create(account, f"New {tag}-{i}", f"n{tag}-{i}@x.example")
        self.world.collect()

    @rule(data=st.data(), burst=st.integers(1, 3), other=st.booleans())
    def update(self, data, burst, other):
        """``burst`` changes of one customer, as fast as Stripe takes them (usually
        within one second: a tie only Stripe can settle)."""
        account = self._account(other)
        if account is None or not self.world.live(account):
            return
        stripe_id = data.draw(st.sampled_from(self.world.live(account)), label="customer")
        for _ in range(burst):
            self.world.update(account, stripe_id, data.draw(CHANGES, label="changes"))
        self.world.collect()

    @rule(data=st.data(), other=st.booleans())
    def delete(self, data, other):
        account = self._account(other)
        if account is None or not self.world.live(account):
            return
        self.world.delete(account, data.draw(st.sampled_from(self.world.live(account))))
        self.world.collect()

    # -- deliveries ---------------------------------------------------------------------
    @precondition(lambda self: self.world.held)
    @rule(pick=st.integers(0, 10_000), fate=FATES, stripe_down=st.booleans())
    def deliver(self, pick, fate, stripe_down):
        """Deliver one held event, picked anywhere in the queue (reordering), once, twice,
        never, or not yet; optionally while Stripe fails (a tie cannot be settled: the
        delivery fails and Stripe retries it later)."""
        world = self.world
        if fate == "later":
            world.held.append(world.held.pop(pick % len(world.held)))
            return
        held = world.held.pop(pick % len(world.held))
        if fate == "drop":
            return
        if stripe_down:
            world.sandbox.configure(error_rate=1.0)
        try:
            status = world.deliver(held)
        finally:
            world.sandbox.configure(error_rate=0.0)
        if status != 200 or fate == "duplicate":
            world.held.append(held)

    @precondition(lambda self: self.world.held)
    @rule(reverse=st.booleans(), drop_every=st.sampled_from([0, 0, 2, 5]))
    def flush(self, reverse, drop_every):
        """Deliver everything held, oldest or newest first, losing every n-th."""
        world = self.world
        batch, world.held = world.held[::-1] if reverse else world.held, []
        for i, held in enumerate(batch):
            if drop_every and i % drop_every == drop_every - 1:
                continue
            if world.deliver(held) != 200:
                world.held.append(held)

    # -- imports, crashes and the link ------------------------------------------------
    @precondition(lambda self: self.world.linked and self.world.pending_run())
    @rule(data=st.data(), crash_after=st.none() | st.integers(1, 3), changes=st.integers(0, 2))
    def run_import(self, data, crash_after, changes):
        """Run (or resume) the import; between its pages customers change in Stripe,
        and its process may be killed after a page."""
        world = self.world
        live = world.live(world.current)
        edits = [
            (data.draw(st.sampled_from(live)), data.draw(NAMES)) for _ in range(changes) if live
        ]
        pages = 0

        def on_page(_run):
            nonlocal pages
            pages += 1
            if pages <= len(edits):
                world.update(world.current, edits[pages - 1][0], {"name": edits[pages - 1][1]})
            if pages == crash_after:
                raise ProcessKilled

        with contextlib.suppress(ProcessKilled):
            world.run_import(on_page)
        world.collect()

    @precondition(lambda self: self.world.linked)
    @rule(crash_after=st.none() | st.integers(1, 4))
    def catch_up(self, crash_after):
        """The periodic catch-up (or "Sync now"), between deliveries, possibly killed
        after some progress (the next run takes its claim over once it is stale)."""
        steps = 0

        def on_progress(_progress):
            nonlocal steps
            steps += 1
            if steps == crash_after:
                raise ProcessKilled

        with contextlib.suppress(ProcessKilled):
            self.world.catch_up(on_progress)

    @precondition(lambda self: self.world.linked and self.world.pending_run() is None)
    @rule(crash_after=st.none() | st.integers(1, 2))
    def check_every_customer(self, crash_after):
        """A reconciliation, between deliveries, possibly killed after a page (the next
        one resumes it)."""
        pages = 0

        def on_progress(_check):
            nonlocal pages
            pages += 1
            if pages == crash_after:
                raise ProcessKilled

        with contextlib.suppress(ProcessKilled):
            self.world.check_every_customer(on_progress)

    @precondition(lambda self: self.world.linked)
    @rule(data=st.data(), switch=st.booleans(), away=st.integers(0, 2))
    def reconnect(self, data, switch, away):
        """Disconnect, change customers in Stripe's dashboard meanwhile, then connect
        again: the same account, or (confirmed) the other one."""
        world = self.world
        before = world.current
        world.disconnect()
        for _ in range(away):
            if world.live(before):
                stripe_id = data.draw(st.sampled_from(world.live(before)))
                world.rename_in_dashboard(before, stripe_id, data.draw(NAMES))
        other = next(a for a in world.accounts if a != before)
        world.connect(other if switch else before)
        world.collect()

    # -- the end of the faults ----------------------------------------------------------
    def teardown(self):
        """Faults end: runs finish, Stripe's retries deliver what was held (dropped
        deliveries are gone for good), catch-up runs (and a reconciliation where it
        cannot cover the gap); then the list must be Stripe's."""
        world = self.world
        for _ in range(5):
            if world.pending_run() is None:
                break
            world.run_import()
        assert world.pending_run() is None, "the import never finished"
        if world.pending_check() is not None:
            world.check_every_customer()
        for held in world.held:
            world.deliver(held)
        world.held.clear()
        result = world.catch_up()
        if result.gap:  # events expired: only a full comparison can say what changed
            world.check_every_customer()
        link = StripeAccount.for_business(world.business)
        assert link.is_connected and link.account_id == world.current, (
            link.status,
            link.disconnect_reason,
        )
        problems = world.differences()
        assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def collector():
    hooks = Collector()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def sandbox(collector):
    with SandboxServer() as server:
        server.add_webhook_endpoint(collector.url, "whsec_collector")
        yield server


def test_the_list_converges_with_stripe_after_any_fault(tmp_path, sandbox, collector):
    app = webhook_app(tmp_path, STRIPE_SANDBOX_URL=sandbox.url, JOBS_IN_PROCESS="0", **FAST)
    assert app.config["STRIPE_WEBHOOK_SECRET"] == SECRET
    numbers = itertools.count()

    class Machine(Convergence):
        @staticmethod
        def make_world():
            return World(app, sandbox, collector, next(numbers))

    run_state_machine_as_test(Machine, settings=run_settings())


def test_the_comparison_sees_a_lost_delivery(tmp_path, sandbox, collector):
    """The invariant can fail: a change whose delivery was lost is reported, by id,
    until catch-up recovers it from Stripe's events."""
    app = webhook_app(tmp_path, STRIPE_SANDBOX_URL=sandbox.url, JOBS_IN_PROCESS="0", **FAST)
    world = World(app, sandbox, collector, 0, seeded=(5, 0))
    world.run_import()
    world.collect()
    for held in world.held:
        world.deliver(held)
    world.held.clear()
    assert world.differences() == []
    stripe_id = world.live(world.current)[0]
    world.update(world.current, stripe_id, {"name": "Renamed"})
    world.collect()
    assert [h.event["type"] for h in world.held] == ["customer.updated"]
    world.held.clear()  # Stripe's delivery is lost
    problems = world.differences()
    assert len(problems) == 1 and problems[0].startswith(f"{stripe_id}: "), problems
    assert "Renamed" in problems[0]
    result = world.catch_up()
    assert (result.recovered, world.differences()) == (1, [])
