"""Issuing without a terminal: a platform's order export in (CSV as downloaded, or XLSX), codes for
every order out, all orders or none, and the delivery file the owner gives the platform's 批量发货."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from redemption import services
from redemption.models import IssueBatch, Voucher


def send(client, product, content, name="orders.csv", channel="pdd"):
    return client.post(
        "/api/v1/vouchers/issue-file/",
        {"product": product.id, "channel": channel, "file": SimpleUploadedFile(name, content)},
        format="multipart", HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


def workbook(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    for cells in book.active.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # the text ="…" as a platform's export writes it, not a formula
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def delivery(client, url):
    response = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_pinduoduo_export_becomes_codes_and_a_delivery_file(api, olivia, carol, meal):
    export = (
        "订单号,商品,数量,收货人,收货人手机,订单状态\n"
        "201205-123456789012345,双人套餐,2,张三,138 0013 8000,待发货\n"
        "201205-123456789012346,双人套餐,1,李四,139****0003,待发货\n"
    ).encode("gb18030")
    response = send(api(olivia), meal, export)
    assert response.status_code == 201
    body = response.json()
    assert (body["orders"], body["vouchers"], body["repeated"]) == (2, 3, 0)
    rows = delivery(api(olivia), body["delivery_url"])
    assert rows[0] == ["订单号", "券码", "券链接", "有效期至"]
    assert [r[0] for r in rows[1:]] == ["201205-123456789012345"] * 2 + ["201205-123456789012346"]
    first = Voucher.objects.get(code=rows[1][1])
    assert (first.channel, first.buyer_phone, first.line) == ("pdd", "13800138000", 1)
    assert rows[1][2].endswith(f"/v/{first.token}/")
    # The platform masked the second buyer's phone: it is left out, not refused.
    assert Voucher.objects.get(code=rows[3][1]).buyer_phone == ""
    # A code from the file works at the counter.
    assert api(carol).post("/api/v1/redeem/", {"code": rows[2][1]}, format="json").status_code == 200
    # Downloadable again, the same codes.
    assert delivery(api(olivia), body["delivery_url"]) == rows


def test_a_taobao_workbook_with_text_order_numbers_and_a_repeated_order(api, olivia, meal):
    services.voucher_issue(product=meal, order_no="3312345678901234501", channel="taobao", quantity=2)
    sheet = workbook([
        ["订单编号", "买家会员名", "购买数量", "联系电话"],
        ['="3312345678901234567"', "tb_buyer1", 1, "13800138000"],
        ["'3312345678901234568", "tb_buyer2", 2, None],
        ["3312345678901234567", "tb_buyer1", 2, None],  # the same order again: quantities add up
        ["3312345678901234501", "tb_buyer3", 2, None],  # issued before through the API
    ])
    response = send(api(olivia), meal, sheet, "orders.xlsx", channel="taobao")
    assert response.status_code == 201
    body = response.json()
    assert (body["orders"], body["vouchers"], body["repeated"]) == (3, 7, 1)
    assert Voucher.objects.filter(order_no="3312345678901234567").count() == 3
    rows = delivery(api(olivia), body["delivery_url"])
    assert [r[0] for r in rows[1:]] == ["3312345678901234567"] * 3 + ["3312345678901234568"] * 2 + [
        "3312345678901234501"] * 2
    # The Excel twin keeps every order number and code whole as text.
    xlsx = api(olivia).get(body["delivery_xlsx_url"])
    cells = list(load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [[v or "" for v in c] for c in cells] == rows


def test_the_same_file_twice_issues_nothing_new(api, olivia, meal):
    export = "订单号,数量\nA-1,2\nA-2,1\n".encode()
    first = send(api(olivia), meal, export).json()
    again = send(api(olivia), meal, export).json()
    assert (again["orders"], again["vouchers"], again["repeated"]) == (2, 3, 2)
    assert delivery(api(olivia), again["delivery_url"]) == delivery(api(olivia), first["delivery_url"])
    assert Voucher.objects.count() == 3


def test_a_bad_file_names_every_bad_line_and_issues_nothing(api, olivia, meal):
    export = (
        "订单编号,数量,手机号\n"
        "T-1,1,13800138000\n"
        "1.23457E+17,1,\n"        # line 3: Excel's scientific notation
        "T-3,两个,\n"              # line 4: not a number
        "T-4,0,\n"                 # line 5: not 1–1000
        "T-5,1,call me\n"          # line 6: not a phone number
        ",1,\n"                    # line 7: no order number
    ).encode()
    response = send(api(olivia), meal, export)
    assert response.status_code == 422
    body = response.json()
    assert body["result"] == "invalid_file" and body["ok"] is False
    assert [e["line"] for e in body["errors"]] == [3, 4, 5, 6, 7]
    assert "1.23457E+17" in body["errors"][0]["message"] and "Excel" in body["errors"][0]["message"]
    assert "重新导出" in body["errors"][0]["message"]
    assert "1 到 1000" in body["errors"][1]["message"]
    assert not Voucher.objects.exists() and not IssueBatch.objects.exists()


def test_a_workbook_number_past_fifteen_digits_is_a_bad_line(api, olivia, meal):
    response = send(api(olivia), meal, workbook([["订单号", "数量"], [123456789012345678, 1], [12345, 1]]), "o.xlsx")
    assert response.status_code == 422
    assert [e["line"] for e in response.json()["errors"]] == [2]


@pytest.mark.parametrize("content, name", [
    ("商品,数量\n套餐,1\n".encode(), "orders.csv"),
    (b"PK\x03\x04 not really a workbook", "orders.xlsx"),
    (b"\xff\xfe\x00\x81\x00", "orders.csv"),
])
def test_a_file_that_is_no_order_export_is_refused_in_a_sentence(api, olivia, meal, content, name):
    response = send(api(olivia), meal, content, name)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["line"] == 1 and error["message"]
    assert not Voucher.objects.exists()


def test_english_sentences_too(api, olivia, meal):
    response = api(olivia).post(
        "/api/v1/vouchers/issue-file/",
        {"product": meal.id, "channel": "pdd", "file": SimpleUploadedFile("o.csv", b"order_no\n1.23457E+17\n")},
        format="multipart", HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Export the orders from the platform again" in response.json()["errors"][0]["message"]


def test_only_the_owner_issues_and_downloads(api, olivia, mike, carol, oscar, meal):
    body = send(api(olivia), meal, "订单号\nX-1\n".encode()).json()
    for member in (mike, carol):
        assert send(api(member), meal, "订单号\nX-2\n".encode()).status_code == 403
        assert api(member).get(body["delivery_url"]).status_code == 403
    # Another merchant's owner: the batch is as unknown as one that never was.
    assert api(oscar).get(body["delivery_url"]).status_code == 404
    assert api(oscar).get("/api/v1/vouchers/issue-file/999999/delivery.csv").status_code == 404
    assert send(api(oscar), meal, "订单号\nX-3\n".encode()).status_code == 400  # not their product


def test_card_codes_import_from_a_workbook_too(api, olivia, meal):
    sheet = workbook([["code", "password", "order_no"], ["CARD0001", "pw-1", "TB-1"], ["CARD0002", 123456, None]])
    response = api(olivia).post("/api/v1/vouchers/import/",
                                {"product": meal.id, "file": SimpleUploadedFile("cards.xlsx", sheet)}, format="multipart")
    assert response.status_code == 201 and response.json()["count"] == 2
    assert Voucher.objects.get(code="CARD0002").order_no.startswith("IMPORT-")
