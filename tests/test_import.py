import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from redemption import cipher
from redemption.models import Voucher


def upload(api, owner, product, content, name="cards.csv"):
    return api(owner).post(
        "/api/v1/vouchers/import/",
        {"product": product.id, "file": SimpleUploadedFile(name, content, content_type="text/csv")},
        format="multipart",
    )


def test_card_codes_import_and_redeem(api, olivia, carol, meal):
    content = "code,password,order_no,valid_until\nAB-12-CD-34,pw1,TB-1,2030-12-31\nXY9988776655,pw2,,\n".encode()
    response = upload(api, olivia, meal, content)
    assert response.status_code == 201 and response.json() == {"ok": True, "count": 2}
    card = Voucher.objects.get(code="AB12CD34")
    assert cipher.decrypt(card.password_ciphertext, card.password_key) == "pw1" and card.order_no == "TB-1" and card.valid_until.year == 2030
    assert api(carol).post("/api/v1/redeem/", {"code": "ab12cd34"}, format="json").status_code == 200


@pytest.mark.parametrize("encoding, bom", [("utf-8", b"\xef\xbb\xbf"), ("utf-8", b""), ("gb18030", b"")])
def test_excel_encodings(api, olivia, meal, encoding, bom):
    content = bom + "code,order_no\n卡号0001,订单一\n".encode(encoding)
    assert upload(api, olivia, meal, content).status_code == 201
    assert Voucher.objects.get().order_no == "订单一"


def test_a_bad_file_imports_nothing_and_names_every_bad_line(api, olivia, meal, issue):
    existing = issue(meal)
    content = (
        "code,valid_until\n"
        "GOOD0001,\n"
        "GOOD0001,\n"          # line 3: repeats line 2
        f"{existing.code},\n"  # line 4: already issued
        "GOOD0002,31.12.2030\n"  # line 5: a date we cannot read
        ",\n"                   # blank: skipped
        "A,B,C\n"               # line 7: wrong column count
    ).encode()
    response = upload(api, olivia, meal, content)
    assert response.status_code == 422
    body = response.json()
    assert body["result"] == "invalid_file" and body["message"]
    assert [e["line"] for e in body["errors"]] == [3, 4, 5, 7]
    assert Voucher.objects.count() == 1


@pytest.mark.parametrize("content", [b"", b"number,pin\n1,2\n", b"code\n", b"\xff\xfe\x00garbage"])
def test_unusable_files_are_refused(api, olivia, meal, content):
    response = upload(api, olivia, meal, content)
    assert response.status_code in (400, 422)  # 400: an empty upload; 422: a file that is not a code list
    assert response.json()["message"]
    assert not Voucher.objects.exists()


def test_only_the_owner_imports(api, mike, oscar, meal):
    content = b"code\nX1234567\n"
    assert upload(api, mike, meal, content).status_code == 403
    assert upload(api, oscar, meal, content).status_code == 400  # not their product
    assert not Voucher.objects.exists()


def test_two_files_without_order_numbers_in_the_same_second_both_import(api, olivia, meal):
    first = upload(api, olivia, meal, b"code\nCARD0001\nCARD0002\n")
    second = upload(api, olivia, meal, b"code\nCARD0003\nCARD0004\n")
    assert (first.status_code, second.status_code) == (201, 201)
    orders = set(Voucher.objects.values_list("order_no", flat=True))
    assert len(orders) == 2  # each file is an order of its own


def test_two_files_naming_the_same_order_add_to_it(api, olivia, meal):
    assert upload(api, olivia, meal, b"code,order_no\nCARD0001,TB-9\n").status_code == 201
    assert upload(api, olivia, meal, b"code,order_no\nCARD0002,TB-9\n").status_code == 201
    lines = sorted(Voucher.objects.filter(order_no="TB-9").values_list("line", flat=True))
    assert lines == [1, 2]


def test_an_import_naming_an_order_issued_through_the_api_adds_to_it(api, olivia, meal):
    issued = api(olivia).post(
        "/api/v1/vouchers/", {"product": meal.id, "order_no": "TB-7", "channel": "other", "quantity": 2}, format="json"
    )
    assert issued.status_code == 201
    assert upload(api, olivia, meal, b"code,order_no\nCARD0001,TB-7\n").status_code == 201
    assert sorted(Voucher.objects.filter(order_no="TB-7").values_list("line", flat=True)) == [1, 2, 3]
