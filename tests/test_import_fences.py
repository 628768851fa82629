"""One import run, one holder (issue 15, item 6): a run taken from its holder while the
holder is still alive — superseded by a reconnect, or requeued by Retry after its
heartbeat went quiet and claimed by another worker — gets nothing more from the old
holder: no page, no position, no sweep batch, and never "Succeeded" over "Superseded"."""

from __future__ import annotations

from datetime import timedelta

from models import Customer
from models.db import db, write_transaction
from models.import_run import INTERRUPTED, QUEUED, ImportRun
from models.user import utcnow
from sync import importer
from tests.conftest import make_customer
from tests.import_support import app, assert_mirrors, link, sandbox
from tests.test_import_stamps import AfterRead

__all__ = ["app", "sandbox"]


def test_a_run_superseded_while_its_holder_lives_never_records_success(app, sandbox, business):
    account = sandbox.create_account(customers=300)
    link(business, account)
    pages, newer = [], []

    def reconnect_after_the_first_page(run: ImportRun) -> None:
        pages.append(run.id)
        if len(pages) == 1:
            with write_transaction():
                # A sweep found its heartbeat late; then the owner reconnected.
                ImportRun.update(status=INTERRUPTED).where(ImportRun.id == run.id).execute()
                newer.append(importer.queue_import(business.id, app.config, "reconnect"))

    old = importer.run_in_foreground(
        business.id, app.config, on_page=reconnect_after_the_first_page
    )
    assert newer[0][1], "the reconnect queued a new run"
    old = ImportRun.get_by_id(old.id)
    assert (old.status, old.last_error) == ("failed", importer.SUPERSEDED)
    assert old.pages == 1 and len(pages) == 1  # nothing written after it was superseded
    assert old.total is None
    assert ImportRun.get_by_id(newer[0][0].id).status == QUEUED


def test_a_run_retried_during_its_sweep_gets_nothing_more_from_its_old_holder(
    app, sandbox, business
):
    account = sandbox.create_account(customers=40)
    link(business, account)
    gone = [f"cus_gone{i}" for i in range(3)]
    for stripe_id in gone:  # deleted in Stripe while disconnected: the sweep's work
        make_customer(business, stripe_customer_id=stripe_id, stripe_version_at=1_000)
    app.config.update(IMPORT_STALE_AFTER=600)  # no heartbeat of its own interferes
    claims = []

    def retry_and_take_over() -> None:
        """The holder's heartbeat went quiet; the owner clicks Retry and another
        worker claims the run, while the old holder is between two retrieves."""
        with db.connection_context():
            run = ImportRun.latest_for(business)
            ImportRun.update(
                status=INTERRUPTED, heartbeat_at=utcnow() - timedelta(minutes=20)
            ).where(ImportRun.id == run.id).execute()
            again = importer.retry(run, app.config)
            assert again is not None and again.claim(from_status=QUEUED)
            claims.append(again.owner_token)

    with AfterRead(f"/v1/customers/{gone[0]}", retry_and_take_over):
        importer.run_in_foreground(business.id, app.config)
    run = ImportRun.latest_for(business)
    assert (run.status, run.owner_token) == ("running", claims[0])  # the new holder's
    marked = Customer.select().where(Customer.deleted_in_stripe_at.is_null(False)).count()
    assert marked == 0  # the old holder's sweep batch was rolled back

    # The new holder resumes the run from its saved position and finishes the sweep.
    finished = importer.execute(run, app.config)
    assert finished.status == "succeeded", finished.last_error
    assert {
        c.stripe_customer_id
        for c in Customer.select().where(Customer.deleted_in_stripe_at.is_null(False))
    } == set(gone)
    assert_mirrors(sandbox, account, business)


def test_a_superseded_run_is_not_handed_back_to_the_queue_by_its_stopping_holder(app, business):
    run = ImportRun.create(business=business, status=QUEUED)
    assert run.claim(from_status=QUEUED)
    ImportRun.update(status=INTERRUPTED).where(ImportRun.id == run.id).execute()
    newer, queued = importer.queue_import(business.id, app.config, "reconnect")
    assert queued
    assert not run.release()  # its worker is shutting down and would requeue it
    assert not run.save_progress(pages=ImportRun.pages + 1)
    assert not run.finish("succeeded")
    assert ImportRun.get_by_id(run.id).status == "failed"
    assert ImportRun.active_for(business).id == newer.id
