"""Retention: `manage.py prune` deletes old refusals, checks and finished events and erases the
phone of long-ended vouchers, while every figure the owner reads stays as it was."""

import datetime as dt
import io
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from redemption.models import Attempt, Delivery, Event, Voucher, Webhook


@contextmanager
def days_ago(days):
    """Everything done inside happens `days` days ago."""
    then = timezone.now() - dt.timedelta(days=days)
    with mock.patch("django.utils.timezone.now", return_value=then):
        yield then


def redeem(client, code, **extra):
    return client.post("/api/v1/redeem/", {"code": code, **extra}, format="json").json()


def check(client, code):
    return client.post("/api/v1/check/", {"code": code}, format="json").json()


def prune(*args):
    out = io.StringIO()
    call_command("prune", *args, stdout=out)
    return out.getvalue()


def figures(client, since):
    """What the owner reads: staff and store stats, the daily statement, the orders."""
    today = timezone.localdate()
    ranges = [f"?from={since}&to={today}", f"?from={since}&to={since}"]
    return {url + query: client.get(url + query).json()
            for url in ("/api/v1/stats/staff/", "/api/v1/stats/stores/", "/api/v1/stats/daily/", "/api/v1/orders/")
            for query in ranges}


@pytest.fixture
def half_a_year_of_counter(olivia, carol, dave, meal, wash, issue, api):
    """200 days ago: refusals at both stores, a check, redemptions and a reversal. Today: one refusal."""
    with days_ago(200) as then:
        pass_, meal_voucher = issue(wash), issue(meal)
        redeem(api(carol), "0000")
        redeem(api(dave), "1111")
        check(api(carol), pass_.code)
        redeem(api(carol), pass_.code, uses=2)
        rid = redeem(api(dave), meal_voucher.code)["redemption"]["id"]
        api(olivia).post(f"/api/v1/redemptions/{rid}/reverse/", {"reason": "点错了"}, format="json")
    redeem(api(carol), "2222")
    return timezone.localdate(then)


def test_old_refusals_and_checks_go_and_every_figure_stays_the_same(api, olivia, half_a_year_of_counter):
    before = figures(api(olivia), half_a_year_of_counter)
    assert before[f"/api/v1/stats/staff/?from={half_a_year_of_counter}&to={half_a_year_of_counter}"]

    output = prune()

    assert "refused attempts and checks older than 180 days: 3 deleted" in output
    # Left: the two redeems' own attempts, and today's refusal.
    assert sorted(Attempt.objects.values_list("result", flat=True)) == ["not_found", "redeemed", "redeemed"]
    assert figures(api(olivia), half_a_year_of_counter) == before


def test_a_second_prune_counts_nothing_twice(api, olivia, half_a_year_of_counter):
    before = figures(api(olivia), half_a_year_of_counter)
    prune()
    assert "0 deleted" in prune()
    assert figures(api(olivia), half_a_year_of_counter) == before


def test_a_voucher_history_keeps_issue_redemptions_reversals_and_actions(api, olivia, carol, meal, issue):
    with days_ago(200.5):
        voucher = issue(meal)
        check(api(carol), voucher.code)
    with days_ago(200.4):
        rid = redeem(api(carol), voucher.code)["redemption"]["id"]
    with days_ago(200.3):
        redeem(api(carol), voucher.code)  # refused: used already
    with days_ago(200.2):
        api(olivia).post(f"/api/v1/redemptions/{rid}/reverse/", {"reason": "点错了"}, format="json")
    with days_ago(200.1):
        api(olivia).post(f"/api/v1/vouchers/{voucher.pk}/void/", {"reason": "买家退款"}, format="json")
    history = lambda: [e["type"] for e in api(olivia).get(f"/api/v1/vouchers/{voucher.pk}/history/").json()["events"]]
    assert history() == ["issued", "checked", "redeemed", "refused", "reversed", "voided"]

    prune()

    assert history() == ["issued", "redeemed", "reversed", "voided"]


def test_a_dry_run_counts_what_would_go_and_changes_nothing(api, olivia, half_a_year_of_counter, meal, issue):
    with days_ago(100) as then:
        issue(meal, buyer_phone="13800138000", state=Voucher.State.VOIDED, voided_at=then)
        Event.objects.create(merchant=olivia.merchant, type="redemption.created", data={}, fanned_out=True, at=then)
    attempts, events = Attempt.objects.count(), Event.objects.count()

    dry = prune("--dry-run")

    assert "3 would be deleted" in dry and "1 would be deleted" in dry and "1 would be erased" in dry
    assert (Attempt.objects.count(), Event.objects.count()) == (attempts, events)
    assert Voucher.objects.filter(buyer_phone="13800138000").exists()
    done = prune()
    assert dry.replace("would be ", "") == done


def webhook(merchant):
    return Webhook.objects.create(merchant=merchant, url="https://erp.example.com/hook", events=["redemption.created"])


def test_old_events_go_once_their_webhooks_are_done(acme):
    hook = webhook(acme)

    def event(days, fanned_out=True, **delivery):
        with days_ago(days) as then:
            made = Event.objects.create(merchant=acme, type="redemption.created", data={"days": days},
                                        fanned_out=fanned_out, at=then)
            if delivery:
                Delivery.objects.create(webhook=hook, event=made, **delivery)
        return made

    delivered = event(40, delivered_at=timezone.now())
    given_up = event(40, failed_at=timezone.now())
    no_webhook = event(40)
    still_due = event(40, next_at=timezone.now())
    not_fanned_out = event(40, fanned_out=False)
    recent = event(5, delivered_at=timezone.now())

    assert "live events older than 30 days, webhooks done: 3 deleted" in prune()

    assert set(Event.objects.values_list("pk", flat=True)) == {still_due.pk, not_fanned_out.pk, recent.pk}
    assert not Delivery.objects.filter(event__in=[delivered, given_up, no_webhook]).exists()
    assert Delivery.objects.filter(event=still_due).exists()


def test_the_phone_of_a_long_ended_voucher_is_erased_and_no_lookup_finds_it(api, olivia, carol, meal, issue):
    phone = "13800138000"
    with days_ago(100) as then:
        voided = issue(meal, buyer_phone=phone, state=Voucher.State.VOIDED, voided_at=then)
        expired = issue(meal, buyer_phone=phone, valid_until=then)
        used_up = issue(meal, buyer_phone=phone)
        redeem(api(carol), used_up.code)
    with days_ago(10) as then:
        used_lately = issue(meal, buyer_phone=phone)
        redeem(api(carol), used_lately.code)
        voided_lately = issue(meal, buyer_phone=phone, state=Voucher.State.VOIDED, voided_at=then)
    active = issue(meal, buyer_phone=phone)

    assert "buyer phones of vouchers ended over 90 days ago: 3 erased" in prune()

    assert set(Voucher.objects.filter(buyer_phone="").values_list("pk", flat=True)) == {voided.pk, expired.pk, used_up.pk}
    found = api(olivia).post("/api/v1/vouchers/lookup/", {"phone": phone}, format="json").json()["results"]
    assert {r["id"] for r in found} == {used_lately.pk, voided_lately.pk, active.pk}


def test_zero_days_prunes_all_that_qualifies_now(api, olivia, carol, meal, issue, settings, half_a_year_of_counter):
    settings.RETAIN_ATTEMPTS_DAYS = settings.RETAIN_EVENTS_DAYS = settings.RETAIN_BUYER_PHONE_DAYS = 0
    voucher = issue(meal, buyer_phone="13800138000")
    redeem(api(carol), voucher.code)
    Event.objects.update(fanned_out=True)
    before = figures(api(olivia), half_a_year_of_counter)

    output = prune()

    assert "older than 0 days: 4 deleted" in output and "ended over 0 days ago: 1 erased" in output
    assert set(Attempt.objects.values_list("result", flat=True)) == {"redeemed"}
    assert not Event.objects.exists()
    assert Voucher.objects.get(pk=voucher.pk).buyer_phone == ""
    assert figures(api(olivia), half_a_year_of_counter) == before


def test_a_negative_retention_is_refused(settings):
    settings.RETAIN_EVENTS_DAYS = -1
    with pytest.raises(Exception, match="RETAIN_EVENTS_DAYS must be 0 or more days"):
        prune()


@pytest.mark.postgres
def test_a_second_prune_waits_for_the_first_to_finish(db):
    """Two at once would count the same refusals twice into the totals: the second stops."""
    from django.core.management.base import CommandError
    from django.db import connections

    from redemption.management.commands.prune import PRUNE_LOCK

    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [PRUNE_LOCK])
        try:
            with pytest.raises(CommandError, match="another prune is running"):
                prune()
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PRUNE_LOCK])
    other.close()
    assert "0 deleted" in prune()
