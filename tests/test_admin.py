"""The admin site: owners see and change only their own merchant, the operator sees every merchant,
managers and clerks get nothing, and voucher codes stay masked."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from redemption import codes, services
from redemption.models import Product, Redemption, Voucher
from staff.models import Role, Store
from tests.conftest import PASSWORD


def admin_url(model, view="changelist", *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def as_user(client):
    def login(username):
        assert client.login(username=username, password=PASSWORD)
        return client

    return login


@pytest.fixture
def foreign(oscar):
    """Other Co's store, product and voucher."""
    store = oscar.merchant.stores.get()
    product = Product.objects.create(merchant=oscar.merchant, name="Foreign pass", face_value=Decimal("10.00"))
    product.stores.set([store])
    voucher = services.voucher_issue(product=product, order_no="FOREIGN-1")[0][0]
    return store, product, voucher


@pytest.fixture
def redeemed(carol, store_a, meal, issue):
    voucher = issue(meal)
    return services.voucher_redeem(member=carol, raw_code=voucher.code, store_id=store_a.id).redemption


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


def test_owner_sees_own_lists(as_user, olivia, store_a, redeemed, foreign):
    client = as_user("olivia")
    for model in (Voucher, Store, Redemption, Product):
        response = client.get(admin_url(model))
        assert response.status_code == 200, model
        assert b"Other store" not in response.content
        assert b"Foreign pass" not in response.content
    assert store_a.name.encode() in client.get(admin_url(Store)).content
    assert codes.mask(redeemed.voucher.code).encode() in client.get(admin_url(Redemption)).content


def test_owner_logs_in_through_admin_login(client, olivia):
    response = client.post(reverse("admin:login"), {"username": "olivia", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_foreign_voucher_answers_as_an_unknown_one(as_user, olivia, foreign):
    client = as_user("olivia")
    _, _, voucher = foreign
    foreign_answer = client.get(admin_url(Voucher, "change", voucher.pk))
    unknown_answer = client.get(admin_url(Voucher, "change", 10**9))
    # Django 5.2 redirects an unknown id to the admin index with a "doesn't exist" message.
    assert foreign_answer.status_code == unknown_answer.status_code == 302
    assert foreign_answer.url == unknown_answer.url == reverse("admin:index")
    page = client.get(admin_url(Voucher, "change", voucher.pk), follow=True)
    assert "doesn’t exist" in page.content.decode() or "不存在" in page.content.decode()
    assert codes.mask(voucher.code).encode() not in page.content
    assert b"Foreign pass" not in page.content


@pytest.mark.parametrize("username", ["mike", "carol"])
def test_managers_and_clerks_get_no_data(as_user, username, mike, carol, meal, issue):
    voucher = issue(meal)
    client = as_user(username)
    for url in ("/admin/", admin_url(Voucher), admin_url(Voucher, "change", voucher.pk)):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login")), url
    login_page = client.get(admin_url(Voucher), follow=True).content
    assert codes.mask(voucher.code).encode() not in login_page
    assert meal.name.encode() not in login_page


def test_manager_cannot_log_in_through_admin_login(client, mike):
    response = client.post(reverse("admin:login"), {"username": "mike", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_anonymous_is_sent_to_login(client, acme):
    response = client.get(admin_url(Voucher))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


def test_superuser_sees_every_merchant(as_user, superuser, meal, issue, foreign):
    ours = issue(meal)
    _, _, theirs = foreign
    content = as_user("root").get(admin_url(Voucher)).content
    assert codes.mask(ours.code).encode() in content
    assert codes.mask(theirs.code).encode() in content


def test_voucher_list_masks_codes(as_user, olivia, meal, issue):
    voucher = issue(meal, buyer_phone="13812345678")
    client = as_user("olivia")
    for url in (admin_url(Voucher), admin_url(Voucher, "change", voucher.pk)):
        content = client.get(url).content.decode()
        assert voucher.code not in content
        assert voucher.code[-4:] in content
        assert voucher.order_no not in content
        assert "13812345678" not in content


def test_search_by_code_tail_and_order_number(as_user, olivia, meal, issue):
    wanted, other = issue(meal), issue(meal)
    client = as_user("olivia")
    for term in (wanted.code[-6:], wanted.order_no):
        response = client.get(admin_url(Voucher), {"q": term})
        assert response.context["cl"].result_count == 1
        assert list(response.context["cl"].result_list) == [wanted]
    spaced = codes.group(wanted.code)[-9:]
    assert list(client.get(admin_url(Voucher), {"q": spaced}).context["cl"].result_list) == [wanted]
    # Three characters match too many codes to mean anything.
    assert client.get(admin_url(Voucher), {"q": other.code[-3:]}).context["cl"].result_count == 0


def test_void_freeze_and_unfreeze_actions(as_user, olivia, meal, issue):
    voucher = issue(meal)
    client = as_user("olivia")

    def act(action):
        response = client.post(admin_url(Voucher), {"action": action, "_selected_action": [voucher.pk]})
        assert response.status_code == 302
        voucher.refresh_from_db()

    act("freeze")
    assert voucher.state == Voucher.State.FROZEN
    act("unfreeze")
    assert voucher.state == Voucher.State.ACTIVE
    act("void")
    assert voucher.state == Voucher.State.VOIDED and voucher.voided_at is not None


def test_void_action_ignores_foreign_vouchers(as_user, olivia, foreign):
    _, _, voucher = foreign
    as_user("olivia").post(admin_url(Voucher), {"action": "void", "_selected_action": [voucher.pk]})
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ACTIVE


def test_redemptions_are_read_only_for_owners(as_user, olivia, redeemed):
    client = as_user("olivia")
    assert client.get(admin_url(Redemption, "add")).status_code == 403
    assert client.get(admin_url(Redemption, "delete", redeemed.pk)).status_code == 403
    view = client.get(admin_url(Redemption, "change", redeemed.pk))
    assert view.status_code == 200
    assert b'name="uses"' not in view.content
    client.post(admin_url(Redemption, "change", redeemed.pk), {"uses": 5})
    redeemed.refresh_from_db()
    assert redeemed.uses == 1


def test_product_form_offers_only_own_stores(as_user, olivia, store_a, store_b, foreign):
    response = as_user("olivia").get(admin_url(Product, "add"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert set(form.fields["stores"].queryset) == {store_a, store_b}
    assert "merchant" not in form.fields
    assert b"Other store" not in response.content


def test_owner_adds_a_product_to_their_merchant(as_user, acme, olivia, store_a, foreign):
    foreign_store = foreign[0]
    client = as_user("olivia")
    data = {"name": "Tea", "face_value": "9.90", "uses_per_voucher": "1", "instructions": ""}
    refused = client.post(admin_url(Product, "add"), {**data, "stores": [foreign_store.pk]})
    assert refused.status_code == 200 and not Product.objects.filter(name="Tea").exists()
    assert client.post(admin_url(Product, "add"), {**data, "stores": [store_a.pk]}).status_code == 302
    tea = Product.objects.get(name="Tea")
    assert tea.merchant == acme and list(tea.stores.all()) == [store_a]


def test_owner_adds_a_clerk(as_user, acme, olivia, store_a):
    client = as_user("olivia")
    response = client.post(admin_url(olivia.__class__, "add"), {
        "username": "erin", "password1": "a-long-pass-93", "password2": "a-long-pass-93",
        "display_name": "Erin", "role": Role.CLERK, "stores": [store_a.pk],
    })
    assert response.status_code == 302
    erin = get_user_model().objects.get(username="erin").membership
    assert erin.merchant == acme and erin.role == Role.CLERK and list(erin.stores.all()) == [store_a]
    assert client.login(username="erin", password="a-long-pass-93")


def test_owner_cannot_make_an_owner(as_user, olivia, carol):
    client = as_user("olivia")
    client.post(admin_url(carol.__class__, "change", carol.pk),
                {"display_name": "Carol", "role": Role.OWNER, "new_password": ""})
    carol.refresh_from_db()
    assert carol.role == Role.CLERK


def test_owner_cannot_demote_themself(as_user, olivia):
    client = as_user("olivia")
    form = client.get(admin_url(olivia.__class__, "change", olivia.pk)).context["adminform"].form
    assert "role" not in form.fields
    client.post(admin_url(olivia.__class__, "change", olivia.pk), {"display_name": "O", "role": Role.CLERK})
    olivia.refresh_from_db()
    assert olivia.role == Role.OWNER and olivia.display_name == "O"


def test_deactivate_action_spares_owners(as_user, olivia, carol):
    client = as_user("olivia")
    client.post(admin_url(carol.__class__), {"action": "deactivate", "_selected_action": [carol.pk, olivia.pk]})
    carol.user.refresh_from_db()
    olivia.user.refresh_from_db()
    assert not carol.user.is_active
    assert olivia.user.is_active
    assert not client.login(username="carol", password=PASSWORD)


def test_a_clerk_deactivated_in_the_admin_loses_their_api_token_at_once(as_user, api, olivia, carol):
    clerk_api = api(carol)
    assert clerk_api.get("/api/v1/redemptions/mine/").status_code == 200
    owner = as_user("olivia")
    owner.post(admin_url(carol.__class__), {"action": "deactivate", "_selected_action": [carol.pk]})
    assert clerk_api.get("/api/v1/redemptions/mine/").status_code == 401
    # The token is gone, not just paused: reactivating the clerk does not bring a lost phone back in.
    owner.post(admin_url(carol.__class__), {"action": "reactivate", "_selected_action": [carol.pk]})
    carol.user.refresh_from_db()
    assert carol.user.is_active
    assert clerk_api.get("/api/v1/redemptions/mine/").status_code == 401


def test_owner_does_not_see_foreign_staff(as_user, olivia, carol, oscar):
    client = as_user("olivia")
    content = client.get(admin_url(carol.__class__)).content
    assert b"Carol" in content and b"Oscar" not in content
    assert client.get(admin_url(carol.__class__, "change", oscar.pk)).status_code == 302


def test_superuser_cannot_link_another_merchants_store(as_user, superuser, acme, store_a, foreign):
    foreign_store = foreign[0]
    response = as_user("root").post(admin_url(Product, "add"), {
        "merchant": acme.pk, "name": "Mixed", "face_value": "1.00", "uses_per_voucher": "1",
        "stores": [store_a.pk, foreign_store.pk], "instructions": "",
    })
    assert response.status_code == 200
    assert "stores" in response.context["adminform"].form.errors
    assert not Product.objects.filter(name="Mixed").exists()


def test_superuser_sees_everything_on_the_index(as_user, superuser):
    content = as_user("root").get("/admin/").content.decode()
    for model in (Voucher, Store, Product, Redemption, get_user_model()):
        assert admin_url(model) in content


@pytest.mark.parametrize("username", ["olivia", "root"])
def test_every_page_renders(as_user, username, superuser, olivia, carol, store_a, meal, redeemed):
    client = as_user(username)
    objects = [store_a, meal, redeemed.voucher, redeemed, carol, olivia, redeemed.voucher.attempts.first()]
    for obj in objects:
        model = type(obj)
        assert client.get(admin_url(model)).status_code == 200, model
        assert client.get(admin_url(model, "change", obj.pk)).status_code == 200, model
    for model in (Store, Product, type(carol)):
        assert client.get(admin_url(model, "add")).status_code == 200, model


def test_autocomplete_stays_within_the_merchant(as_user, olivia, store_a, foreign):
    client = as_user("olivia")
    ask = {"app_label": "redemption", "model_name": "product", "field_name": "stores", "term": ""}
    found = client.get(reverse("admin:autocomplete"), ask).json()["results"]
    assert [row["text"] for row in found] == [store_a.name]
    ask = {"app_label": "redemption", "model_name": "store", "field_name": "merchant", "term": ""}
    assert client.get(reverse("admin:autocomplete"), ask).status_code == 403


def test_superuser_voids_any_merchants_voucher(as_user, superuser, foreign):
    _, _, voucher = foreign
    as_user("root").post(admin_url(Voucher), {"action": "void", "_selected_action": [voucher.pk]})
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.VOIDED
    assert voucher.merchant.events.filter(type="voucher.voided").exists()


def test_owner_sets_redemption_rules_in_the_admin(as_user, acme, olivia, store_a):
    client = as_user("olivia")
    page = client.get(admin_url(Product, "add"))
    assert b'name="max_uses_per_day"' in page.content and b'name="weekdays"' in page.content
    data = {"name": "洗车 5 次卡", "face_value": "100", "uses_per_voucher": "5", "instructions": "",
            "max_uses_per_day": "2", "min_minutes_between_uses": "30", "weekdays": ["1", "2", "3", "4", "5"],
            "hours_from": "10:00", "hours_until": "22:00"}
    refused = client.post(admin_url(Product, "add"), {**data, "hours_until": "09:00"})
    assert refused.status_code == 200 and not Product.objects.exists()
    assert client.post(admin_url(Product, "add"), data).status_code == 302
    product = Product.objects.get()
    assert product.redeemable_hours == {"weekdays": [1, 2, 3, 4, 5], "from": "10:00", "until": "22:00"}
    assert (product.max_uses_per_day, product.min_minutes_between_uses) == (2, 30)
    listed = client.get(admin_url(Product))
    assert "10:00–22:00".encode() in listed.content
    edit = client.get(admin_url(Product, "change", product.pk))
    assert edit.context["adminform"].form.initial["weekdays"] == [1, 2, 3, 4, 5]
def test_reissue_action_shows_each_new_code_once_and_skips_used_up_ones(as_user, olivia, carol, meal, issue):
    from redemption import services

    fresh, used = issue(meal), issue(meal)
    services.voucher_redeem(member=carol, raw_code=used.code)
    client = as_user("olivia")
    response = client.post(admin_url(Voucher), {"action": "reissue", "_selected_action": [fresh.pk, used.pk]}, follow=True)
    new = Voucher.objects.get(replaces=fresh)
    page = response.content.decode()
    assert codes.group(new.code) in page and "****" + fresh.code[-4:] in page
    assert Voucher.objects.get(pk=used.pk).state == Voucher.State.ACTIVE
    assert codes.group(new.code) not in client.get(admin_url(Voucher)).content.decode()


def test_reissue_by_the_operator_is_logged_without_a_name(as_user, superuser, foreign):
    _, _, voucher = foreign
    as_user("root").post(admin_url(Voucher), {"action": "reissue", "_selected_action": [voucher.pk]})
    entry = voucher.log.get(action="reissued")
    assert entry.staff is None


def test_export_actions_give_excel_csvs_with_masked_codes(as_user, olivia, carol, meal, issue):
    import csv
    import io

    from redemption import services
    from redemption.models import Redemption

    voucher = issue(meal)
    services.voucher_redeem(member=carol, raw_code=voucher.code)
    client = as_user("olivia")
    for model, selected in ((Voucher, voucher.pk), (Redemption, Redemption.objects.get().pk)):
        response = client.post(admin_url(model), {"action": "export", "_selected_action": [selected]})
        assert response["Content-Type"].startswith("text/csv")
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) == 2 and "****" + voucher.code[-4:] in rows[1]
        assert voucher.code not in response.content.decode()


def test_the_voucher_page_shows_its_history_and_links_the_printable_one(as_user, olivia, carol, meal, issue):
    from redemption import services

    voucher = issue(meal)
    services.voucher_redeem(member=carol, raw_code=voucher.code)
    page = as_user("olivia").get(admin_url(Voucher, "change", voucher.pk)).content.decode()
    assert f"/dashboard/vouchers/{voucher.id}/history/" in page
    assert "Carol" in page and "A 人民路店" in page and voucher.code not in page
