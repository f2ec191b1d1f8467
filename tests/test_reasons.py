"""One vocabulary: every refusal reason in redemption.reasons reaches the API, the schema and the
scanner, in Chinese and in English, from that one table."""

import json
import re

import pytest
from django.test import RequestFactory
from django.utils import translation

from redemption.api.errors import refusal_body
from redemption.reasons import REASONS, Refusal

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_has_chinese_words(code):
    reason = REASONS[code]
    with translation.override("zh-hans"):
        assert HAN.search(str(reason.title)), f"{code}: no Chinese title"
        assert HAN.search(str(reason.message)), f"{code}: no Chinese sentence"
    with translation.override("en"):
        assert not HAN.search(str(reason.title) + str(reason.message))


def test_an_unknown_reason_cannot_be_raised():
    with pytest.raises(ValueError):
        Refusal("made_up_reason")


def test_the_schema_names_every_reason(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for code in REASONS:
        assert code in schema, code


@pytest.mark.parametrize("language, title", [("zh-hans", "已核销"), ("en", "Already redeemed")])
def test_the_scanner_gets_every_reason_in_its_language(client, carol, language, title):
    client.force_login(carol.user)
    page = client.get("/staff/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    config = json.loads(re.search(r'<script id="hx-config" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert set(config["reasons"]) == set(REASONS)
    assert config["reasons"]["already_redeemed"] == {"title": title, "tone": "used"}
    assert config["reasons"]["expired"]["tone"] == "refused"


def test_a_refusal_answers_with_its_status_and_sentence(carol):
    request = RequestFactory().post("/api/v1/redeem/")
    request.member = carol
    with translation.override("zh-hans"):
        body = refusal_body(Refusal("not_found"), request)
    assert body == {"ok": False, "result": "not_found", "message": "券码不存在"}
    assert Refusal("throttled", retry_after=5).status == 429
