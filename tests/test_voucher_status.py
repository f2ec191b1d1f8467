"""The voucher-status rule is written once (redemption.models.STATUS_RULE): what a voucher says of
itself, what the list filter finds and what the annotation computes must always agree."""

import datetime as dt
import itertools

from django.utils import timezone

from redemption.models import Voucher, VoucherStatus, status_annotation, status_filter


def test_the_model_the_filter_and_the_annotation_agree_on_every_voucher(meal, issue):
    now = timezone.now()
    ends = [None, now - dt.timedelta(days=1), now, now + dt.timedelta(days=1)]
    states = list(Voucher.State)
    vouchers = []
    for state, uses_left, valid_until in itertools.product(states, [0, 1], ends):
        voucher = issue(meal)
        Voucher.objects.filter(pk=voucher.pk).update(state=state, uses_left=uses_left, valid_until=valid_until)
        vouchers.append(voucher.pk)
    rows = Voucher.objects.filter(pk__in=vouchers)
    told = {v.pk: v.status(now) for v in rows}
    annotated = dict(rows.annotate(shown=status_annotation(now)).values_list("pk", "shown"))
    assert annotated == told
    for status in VoucherStatus.values:
        assert set(rows.filter(status_filter(status, now)).values_list("pk", flat=True)) == {
            pk for pk, s in told.items() if s == status
        }, status
    # Every status occurs in the grid, so none of the comparisons above was vacuous.
    assert set(told.values()) == set(VoucherStatus.values)


def test_a_voided_voucher_with_no_uses_left_past_its_end_is_voided_first(meal, issue):
    voucher = issue(meal)
    voucher.state, voucher.uses_left = Voucher.State.VOIDED, 0
    voucher.valid_until = timezone.now() - dt.timedelta(days=3)
    assert voucher.status() == "voided"


def test_a_used_up_voucher_past_its_end_says_redeemed_not_expired(meal, issue):
    voucher = issue(meal)
    voucher.uses_left = 0
    voucher.valid_until = timezone.now() - dt.timedelta(days=3)
    assert voucher.status() == "redeemed"
