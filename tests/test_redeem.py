import datetime as dt

import pytest
from django.utils import timezone

from redemption import codes
from redemption.models import Attempt, Redemption, Voucher


def redeem(client, code, **extra):
    return client.post("/api/v1/redeem/", {"code": code, **extra}, format="json")


def check(client, code, **extra):
    return client.post("/api/v1/check/", {"code": code, **extra}, format="json")


def test_it_redeems_a_fresh_voucher(api, carol, meal, issue, store_a):
    voucher = issue(meal)
    response = redeem(api(carol), voucher.code)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["result"] == "redeemed"
    assert body["voucher"]["uses_left"] == 0 and body["voucher"]["status"] == "redeemed"
    assert body["voucher"]["code_masked"].endswith(voucher.code[-4:])
    assert voucher.code not in response.content.decode()
    redemption = body["redemption"]
    assert redemption["store"] == {"id": store_a.id, "name": store_a.name}
    assert redemption["staff"] == {"id": carol.id, "display_name": "Carol"}
    assert redemption["uses"] == 1 and redemption["reversed"] is False
    assert dt.datetime.fromisoformat(redemption["at"]).utcoffset() == dt.timedelta(hours=8)


def test_check_changes_nothing(api, carol, meal, issue):
    voucher = issue(meal)
    response = check(api(carol), voucher.code)
    assert response.status_code == 200
    assert response.json()["result"] == "redeemable"
    assert response.json()["voucher"]["product"]["name"] == "双人套餐券"
    voucher.refresh_from_db()
    assert voucher.uses_left == 1
    assert not Redemption.objects.exists()


def test_a_second_redeem_is_refused_with_when_where_and_who(api, carol, meal, issue):
    voucher = issue(meal)
    redeem(api(carol), voucher.code)
    response = redeem(api(carol), voucher.code)
    assert response.status_code == 409
    body = response.json()
    assert body["result"] == "already_redeemed"
    assert body["last_redemption"]["store"]["name"] == "A 人民路店"
    assert body["last_redemption"]["staff"]["display_name"] == "Carol"
    assert "at" in body["last_redemption"]
    assert "已核销" in body["message"]


@pytest.mark.parametrize(
    "overrides, reason, status, extra",
    [
        ({"state": Voucher.State.VOIDED, "voided_at": timezone.now()}, "voided", 409, "voided_at"),
        ({"state": Voucher.State.FROZEN}, "frozen", 409, None),
        ({"valid_from": timezone.now() + dt.timedelta(days=1)}, "not_yet_valid", 409, "valid_from"),
        ({"valid_until": timezone.now() - dt.timedelta(seconds=1)}, "expired", 409, "valid_until"),
        ({"uses_left": 0}, "already_redeemed", 409, "last_redemption"),
    ],
)
def test_refusals_about_the_voucher(api, carol, meal, issue, overrides, reason, status, extra):
    voucher = issue(meal, **overrides)
    for call in (check, redeem):
        response = call(api(carol), voucher.code)
        assert response.status_code == status
        body = response.json()
        assert body["ok"] is False and body["result"] == reason
        assert body["message"]
        if extra:
            assert extra in body
    voucher.refresh_from_db()
    assert voucher.uses_left == overrides.get("uses_left", 1)
    assert not Redemption.objects.exists()


def test_wrong_store(api, carol, dave, meal, issue, store_b):
    meal.stores.set([store_b])
    voucher = issue(meal)
    response = redeem(api(carol), voucher.code)
    assert (response.status_code, response.json()["result"]) == (409, "wrong_store")
    assert redeem(api(dave), voucher.code).status_code == 200


def test_insufficient_uses_names_what_is_left(api, carol, wash, issue):
    voucher = issue(wash)
    assert redeem(api(carol), voucher.code, uses=2).json()["voucher"]["uses_left"] == 1
    response = redeem(api(carol), voucher.code, uses=2)
    assert response.status_code == 409
    assert response.json()["result"] == "insufficient_uses"
    assert response.json()["uses_left"] == 1
    assert redeem(api(carol), voucher.code).json()["voucher"]["status"] == "redeemed"


def test_a_multi_use_voucher_works_exactly_its_number_of_times(api, carol, wash, issue):
    voucher = issue(wash)
    results = [redeem(api(carol), voucher.code).json()["result"] for _ in range(4)]
    assert results == ["redeemed", "redeemed", "redeemed", "already_redeemed"]


def test_not_found_and_a_foreign_code_look_the_same(api, carol, oscar, issue):
    from redemption.models import Product

    foreign_product = Product.objects.create(merchant=oscar.merchant, name="Foreign", face_value=1)
    foreign = issue(foreign_product)
    unknown = codes.generate()
    a = redeem(api(carol), foreign.code)
    b = redeem(api(carol), unknown)
    assert a.status_code == b.status_code == 404
    assert a.json() == b.json() == {"ok": False, "result": "not_found", "message": a.json()["message"]}
    foreign.refresh_from_db()
    assert foreign.uses_left == 1


def test_live_qr_required_and_expired(api, carol, meal, issue, settings):
    meal.require_live_qr = True
    meal.save()
    voucher = issue(meal)
    typed = redeem(api(carol), voucher.code)
    assert (typed.status_code, typed.json()["result"]) == (409, "live_qr_required")
    old = codes.live_qr_payload(voucher.token, at=timezone.now().timestamp() - 5 * settings.LIVE_QR_STEP)
    stale = redeem(api(carol), old)
    assert (stale.status_code, stale.json()["result"]) == (409, "qr_expired")
    fresh = redeem(api(carol), codes.live_qr_payload(voucher.token))
    assert fresh.status_code == 200


def test_a_forged_live_qr_is_an_invalid_code(api, carol, meal, issue):
    voucher = issue(meal, )
    payload = codes.live_qr_payload(voucher.token)
    forged = payload[:-4] + ("0000" if not payload.endswith("0000") else "1111")
    assert redeem(api(carol), forged).json()["result"] == "invalid_code"


@pytest.mark.parametrize("raw", ["", "   ", "1" * 129, "1234\x005678", "12\n34"])
def test_invalid_input_is_invalid_code(api, carol, raw):
    response = redeem(api(carol), raw)
    assert response.status_code == 422
    assert response.json()["result"] == "invalid_code"


def test_missing_or_non_text_code_is_invalid_code(api, carol):
    client = api(carol)
    assert client.post("/api/v1/redeem/", {}, format="json").json()["result"] == "invalid_code"
    assert client.post("/api/v1/redeem/", {"code": ["1"]}, format="json").status_code == 422
    assert client.post("/api/v1/redeem/", {"code": None}, format="json").status_code == 422


@pytest.mark.parametrize("body", [[1, 2], "text", {"code": "1", "uses": 0}, {"code": "1", "uses": "many"},
                                  {"code": "1", "store": "x"}, {"code": "1", "idempotency_key": "k" * 65}])
def test_malformed_requests_get_a_clear_400(api, carol, body):
    response = api(carol).post("/api/v1/redeem/", body, format="json")
    assert response.status_code == 400
    assert response.json()["result"] == "invalid_request"
    assert Attempt.objects.count() == 0


def test_broken_json_gets_a_400(api, carol):
    response = api(carol).post("/api/v1/redeem/", b'{"code": ', content_type="application/json")
    assert response.status_code == 400 and response.json()["ok"] is False


def voucher_with_code(issue, product, code):
    return issue(product, code=code)


@pytest.mark.parametrize(
    "typed",
    [
        "{grouped}",
        "{dashed}",
        "{fullwidth}",
        "  {plain}\r\n",
        "\t{plain}\n",
        "http://shop.example.com/v/{token}/",
        "https://shop.example.com/v/{token}",
    ],
)
def test_normalisation_finds_the_voucher(api, carol, meal, issue, typed):
    voucher = issue(meal)
    code = voucher.code
    text = typed.format(
        plain=code,
        grouped=codes.group(code),
        dashed="-".join(code[i : i + 4] for i in range(0, 16, 4)),
        fullwidth="".join(chr(ord(c) + 0xFEE0) for c in code),
        token=voucher.token,
    )
    response = redeem(api(carol), text)
    assert response.status_code == 200, response.json()


def test_letters_are_upper_cased_for_imported_codes(api, carol, meal, issue):
    issue(meal, code="CARD-AB12CD34".replace("-", ""))
    assert redeem(api(carol), "card-ab12 cd34").status_code == 200


def test_check_digit_catches_a_single_typo_and_a_swap(api, carol, meal, issue):
    voucher = issue(meal)
    code = voucher.code
    wrong_digit = code[:5] + str((int(code[5]) + 1) % 10) + code[6:]
    i = next(i for i in range(15) if code[i] != code[i + 1])
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    for typo in (wrong_digit, swapped):
        assert not codes.damm_valid(typo)
        response = redeem(api(carol), typo)
        assert (response.status_code, response.json()["result"]) == (422, "invalid_code")


def test_an_imported_16_digit_code_with_a_failing_check_digit_still_works(api, carol, meal, issue):
    code = next(c for c in (f"{n:016d}" for n in range(1234567890123400, 1234567890123500)) if not codes.damm_valid(c))
    issue(meal, code=code)
    assert redeem(api(carol), code).status_code == 200


def test_damm_catches_every_single_error_and_adjacent_swap():
    for _ in range(50):
        code = codes.generate()
        assert len(code) == 16 and codes.damm_valid(code)
        for pos in range(16):
            for digit in "0123456789":
                if digit != code[pos]:
                    assert not codes.damm_valid(code[:pos] + digit + code[pos + 1 :])
            if pos < 15 and code[pos] != code[pos + 1]:
                assert not codes.damm_valid(code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :])


def test_an_idempotency_key_repeat_returns_the_first_redemption(api, carol, wash, issue):
    voucher = issue(wash)
    client = api(carol)
    first = redeem(client, voucher.code, idempotency_key="scan-1")
    again = redeem(client, voucher.code, idempotency_key="scan-1")
    assert first.status_code == again.status_code == 200
    assert first.json()["redemption"]["id"] == again.json()["redemption"]["id"]
    voucher.refresh_from_db()
    assert voucher.uses_left == 2
    assert redeem(client, voucher.code, idempotency_key="scan-2").json()["voucher"]["uses_left"] == 1


def test_the_last_use_retried_with_its_key_still_answers_success(api, carol, meal, issue):
    voucher = issue(meal)
    client = api(carol)
    first = redeem(client, voucher.code, idempotency_key="k1")
    retry = redeem(client, voucher.code, idempotency_key="k1")
    assert retry.status_code == 200 and retry.json()["redemption"]["id"] == first.json()["redemption"]["id"]


def test_the_same_key_from_another_clerk_is_their_own(api, carol, mike, wash, issue):
    voucher = issue(wash)
    redeem(api(carol), voucher.code, idempotency_key="same")
    response = redeem(api(mike), voucher.code, idempotency_key="same")
    assert response.json()["voucher"]["uses_left"] == 1


def test_every_attempt_is_kept_masked(api, carol, meal, issue):
    voucher = issue(meal)
    client = api(carol)
    check(client, voucher.code)
    redeem(client, voucher.code)
    redeem(client, voucher.code)
    redeem(client, "9999")
    rows = list(Attempt.objects.order_by("id").values_list("kind", "result", "input_masked", "staff_id"))
    assert [r[:2] for r in rows] == [
        ("check", "redeemable"), ("redeem", "redeemed"), ("redeem", "already_redeemed"), ("redeem", "not_found"),
    ]
    assert all(voucher.code not in r[2] for r in rows)
    assert rows[0][2].endswith(voucher.code[-4:])
    assert {r[3] for r in rows} == {carol.id}


def test_ten_unknown_codes_lock_the_clerk_out_for_a_minute(api, carol, dave, meal, issue):
    voucher = issue(meal)
    client = api(carol)
    for _ in range(10):
        assert redeem(client, codes.generate()).json()["result"] == "not_found"
    response = redeem(client, voucher.code)
    assert response.status_code == 429
    assert response.json()["result"] == "throttled"
    assert 50 <= response.json()["retry_after"] <= 60
    assert response["Retry-After"] == str(response.json()["retry_after"])
    assert check(client, voucher.code).status_code == 429
    voucher.refresh_from_db()
    assert voucher.uses_left == 1
    # Only the guesser is locked out.
    assert redeem(api(dave), codes.generate()).json()["result"] == "not_found"


def test_the_lockout_ends(api, carol, meal, issue):
    voucher = issue(meal)
    carol.throttled_until = timezone.now() - dt.timedelta(seconds=1)
    carol.save()
    assert redeem(api(carol), voucher.code).status_code == 200


def test_refused_answers_that_are_not_guesses_do_not_lock_out(api, carol, meal, issue):
    voucher = issue(meal)
    client = api(carol)
    redeem(client, voucher.code)
    for _ in range(12):
        assert redeem(client, voucher.code).status_code == 409


def test_messages_follow_the_request_language(api, carol):
    client = api(carol)
    zh = redeem(client, codes.generate())
    en = client.post("/api/v1/redeem/", {"code": codes.generate()}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["message"] == "券码不存在"
    assert en.json()["message"] == "No voucher with this code."


def test_the_store_may_be_left_out_only_with_one_store(api, olivia, mike, store_a, store_b, meal, issue):
    voucher = issue(meal)
    mike.stores.add(store_b)
    response = redeem(api(mike), voucher.code)
    assert (response.status_code, response.json()["result"]) == (400, "store_required")
    assert redeem(api(mike), voucher.code, store=store_b.id).json()["redemption"]["store"]["id"] == store_b.id


def test_a_store_that_is_not_yours_is_forbidden(api, carol, store_b, oscar, meal, issue):
    voucher = issue(meal)
    other_store = oscar.merchant.stores.get()
    for store in (store_b, other_store, 999999):
        response = redeem(api(carol), voucher.code, store=getattr(store, "id", store))
        assert (response.status_code, response.json()["result"]) == (403, "forbidden")
    voucher.refresh_from_db()
    assert voucher.uses_left == 1


def test_redeem_is_a_handful_of_queries(api, carol, meal, issue, django_assert_max_num_queries):
    vouchers = [issue(meal) for _ in range(2)]
    client = api(carol)
    redeem(client, vouchers[0].code)
    # 10 statements (token+member, store, key replay, locked read, update, redemption, its day's total,
    # its order's total, attempt, event) plus SAVEPOINT/RELEASE, which stand in for BEGIN/COMMIT inside
    # the test's own transaction.
    with django_assert_max_num_queries(12):
        assert redeem(client, vouchers[1].code, idempotency_key="q").status_code == 200
    with django_assert_max_num_queries(7):
        assert check(client, vouchers[1].code).status_code == 409
