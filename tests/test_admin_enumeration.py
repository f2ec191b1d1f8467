"""An owner probing admin URLs learns nothing: every object of another merchant, and every object
of a model the owner may not see at all, answers exactly as an id that does not exist."""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from staff.services import staff_create
from tests.conftest import PASSWORD

MISSING = 987654321


def object_urls(model, pk):
    meta = model._meta
    for view in ("change", "history", "delete"):
        try:
            yield view, reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[pk])
        except NoReverseMatch:
            continue


def answer(client, url):
    response = client.get(url)
    return response.status_code, response.get("Location", "").split("?")[0]


@pytest.fixture
def other_merchants_things(oscar, issue):
    """One of everything, belonging to the other merchant or to the platform."""
    from django.contrib.auth.models import Group
    from tests.conftest import token_for

    from redemption import services
    from redemption.models import Product

    store = oscar.merchant.stores.get()
    clerk = staff_create(merchant=oscar.merchant, username="otto", password=PASSWORD, display_name="Otto",
                         stores=[store])
    product = Product.objects.create(merchant=oscar.merchant, name="Their meal", face_value="10.00")
    voucher = issue(product)
    services.voucher_redeem(member=clerk, raw_code=voucher.code)
    Group.objects.create(name="platform staff")
    token_for(clerk)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_a_foreign_object_answers_as_an_unknown_one(client, olivia, other_merchants_things, model):
    # Objects of every kind that belong to someone else: the other merchant, its owner, the platform.
    foreign = model._default_manager.exclude(**_own(model, olivia)).order_by("pk").last()
    assert foreign is not None, f"no foreign {model._meta.label}: add one to other_merchants_things"
    assert client.login(username="olivia", password=PASSWORD)
    for view, url in object_urls(model, foreign.pk):
        missing_url = url.replace(f"/{foreign.pk}/", f"/{MISSING}/")
        assert answer(client, url) == answer(client, missing_url), (view, url)


def _own(model, member):
    names = {f.name for f in model._meta.fields}
    if "merchant" in names:
        return {"merchant": member.merchant}
    if model._meta.label == "staff.Merchant":
        return {"pk": member.merchant_id}
    return {"pk__in": []}
