"""What every API view is built on: validated bodies, ids and text from the query string, pages,
and a schema that documents the errors each operation can give. Input that cannot be understood
is a 400 with the field named, never a crash."""

from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

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
    """One page of `queryset` as {count, next, previous, results}; the view names its
    `pagination_class`, so the schema documents the page too."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response([shape(item) for item in page])


class Error(serializers.Serializer):
    """Every error the API gives, whatever its cause (see redemption.api.errors)."""

    ok = serializers.BooleanField(help_text="Always false.")
    result = serializers.CharField(
        help_text="A stable code for programs: invalid_request, unauthorized, forbidden, not_found, "
        "unsupported_media_type, or the refusal's reason."
    )
    message = serializers.CharField(help_text="A sentence for people, in the request's language.")
    errors = serializers.DictField(
        required=False, help_text="invalid_request: what is wrong, by field: {field: [sentence]}."
    )


class Throttled(Error):
    retry_after = serializers.IntegerField(help_text="Seconds to wait before trying again (also in Retry-After).")


# The errors any operation may give, by what the operation is: who may call it, what it reads.
GENERIC_ERRORS = {
    400: "The request is not valid: `errors` names each field and what is wrong with it.",
    401: "Not logged in (or the token is unknown, or its staff member was deactivated).",
    403: "Logged in, but this role may not do this here: result `forbidden`.",
    404: "No such record in the caller's merchant (a foreign one answers the same), or no such page.",
    415: "The body is in a format the API does not read: send JSON.",
}
PAGE_PARAMETERS = {"page", "page_size"}


class ApiSchema(AutoSchema):
    """Adds to each operation the errors it can give, from what it is, so that no view lists them
    by hand: 401 and 403 where a login is needed, 400 where it reads a body or query parameters,
    404 where the path names a record or the list comes in pages, 415 where it reads a body.
    What a view declares itself (a refusal with its facts) stays as declared."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self.generic_errors(operation):
            responses.setdefault(str(status), self.error_response(Error, GENERIC_ERRORS[status]))
        if "401" in responses:
            responses["401"]["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string"}, "required": True, "description": "Token"},
            }
        if "429" in responses:
            responses["429"]["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "Seconds to wait."},
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def generic_errors(self, operation):
        parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        query = {name for where, name in parameters if where == "query"}
        statuses = set()
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses |= {401, 403}
        if "requestBody" in operation:
            statuses |= {400, 415}
        if query - PAGE_PARAMETERS:
            statuses.add(400)
        if any(where == "path" for where, _name in parameters) or query & PAGE_PARAMETERS:
            statuses.add(404)
        return sorted(statuses)

    def error_response(self, serializer, description):
        component = self.resolve_serializer(serializer, "response")
        media_types = self.map_renderers("media_type")
        return {"description": description, "content": {m: {"schema": component.ref} for m in media_types}}


class ApiView(APIView):
    """The base of every API view: its schema documents the errors it can give (ApiSchema)."""

    schema = ApiSchema()
