"""``flask seed-demo``: the demo owner, two businesses, a realistic mix of rows."""

from __future__ import annotations

from models.business import Business
from models.customer_list import stats
from models.demo import DEMO_EMAIL, DEMO_PASSWORD
from models.user import User


def test_seed_demo_creates_owner_businesses_and_a_mix(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "400"])
    assert result.exit_code == 0, result.output
    assert DEMO_EMAIL in result.output and DEMO_PASSWORD in result.output
    user = User.by_email(DEMO_EMAIL)
    assert user.check_password(DEMO_PASSWORD)
    primary = Business.primary_for(user)
    side = Business.get((Business.owner == user) & ~Business.is_primary)
    counts = stats(primary.id)
    assert counts["all"] == 400
    assert counts["synced"] > 200 and counts["not_synced"] > 20 and counts["deleted"] > 5
    assert counts["synced"] + counts["not_synced"] + counts["deleted"] == 400
    assert stats(side.id)["all"] == 40


def test_seed_demo_if_empty_does_nothing_the_second_time(runner):
    assert runner.invoke(args=["seed-demo", "--customers", "10", "--if-empty"]).exit_code == 0
    again = runner.invoke(args=["seed-demo", "--customers", "10", "--if-empty"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert stats(Business.primary_for(User.by_email(DEMO_EMAIL)).id)["all"] == 10


def test_seed_demo_twice_without_if_empty_is_a_clear_error(runner):
    runner.invoke(args=["seed-demo", "--customers", "10"])
    again = runner.invoke(args=["seed-demo", "--customers", "10"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_seed_demo_refuses_a_negative_count(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "-5"])
    assert result.exit_code != 0 and "--customers" in result.output


def test_seeded_synced_rows_carry_a_realistic_stripe_object(runner):
    from models.customer import Customer
    from models.stripe_object import unpack

    assert runner.invoke(args=["seed-demo", "--customers", "400"]).exit_code == 0
    primary = Business.primary_for(User.by_email(DEMO_EMAIL))
    rows = list(Customer.for_business(primary).where(Customer.stripe_customer_id.is_null(False)))
    objects = [unpack(row.stripe_object) for row in rows]
    assert all(o["id"] == r.stripe_customer_id for o, r in zip(objects, rows, strict=True))
    assert all(
        o["name"] == r.name and o["email"] == r.email for o, r in zip(objects, rows, strict=True)
    )
    for field, low, high in (("phone", 0.4, 0.8), ("address", 0.35, 0.75), ("metadata", 0.2, 0.6)):
        share = sum(1 for o in objects if o[field]) / len(objects)
        assert low < share < high, field
    assert any(o["tax_ids"]["data"] for o in objects)
    assert any(o["balance"] for o in objects)
    direct = Customer.for_business(primary).where(Customer.stripe_customer_id.is_null())
    assert all(row.stripe_object is None for row in direct)
