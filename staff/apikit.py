"""What every API view uses to read a request: validated bodies, ids and text from the query
string, pages. Input that cannot be understood is a 400 with the field named, never a crash."""

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

# Ids are 64-bit in the database; anything larger is refused as input, not passed on to fail there.
MAX_ID = 2**63 - 1


def valid(serializer_class, request, **context):
    """The request body validated by `serializer_class` (a 400 naming each bad field otherwise)."""
    if not isinstance(request.data, dict):
        raise serializers.ValidationError({"body": [_("Send a JSON object.")]})
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def optional_int(params, name):
    """An id from the query string, or None; "¹" and "9" * 30 are refused, not crashed on."""
    value = params.get(name)
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and int(value) <= MAX_ID):
        raise serializers.ValidationError({name: [_("A whole number is required.")]})
    return int(value)


def optional_text(params, name, max_length=64):
    value = params.get(name) or None
    if value is not None and ("\x00" in value or len(value) > max_length):
        raise serializers.ValidationError({name: [_("This value is not valid.")]})
    return value


def not_found():
    raise NotFound()


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def paginate(view, request, queryset, shape):
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response([shape(item) for item in page])
