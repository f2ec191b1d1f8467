"""What every API view is built on: validated bodies, ids and text from the query string, pages,
and a schema that documents the errors each operation can give. Input that cannot be understood
is a 400 with the field named, never a crash."""

import re

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
    if request.content_type.startswith("application/json"):
        errors = json_type_errors(serializer.fields, request.data)
        if errors:
            raise serializers.ValidationError(errors)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def amount_pattern(field):
    """An amount as the schema writes it, and as a JSON body must send it: digits, a point and
    at most the field's decimal places; a sign only where the amount may be below zero."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    return rf"^{sign}\d{{1,{field.max_whole_digits}}}(?:\.\d{{1,{field.decimal_places}}})?$"


def json_type_errors(fields, data):
    """What in a JSON body has not the type the schema gives it, by field. DRF reads 5 as "5" for
    text, "5" as 5 for a number and "yes" as true: a form needs that, as all it sends is text,
    but in JSON it would take what the schema calls invalid. Nested objects and lists are
    looked into; null and what is left out are the fields' own business."""
    errors = {}
    for name, field in fields.items():
        value = data.get(name) if isinstance(data, dict) else None
        if value is None or field.read_only:
            continue
        error = json_type_error(field, value)
        if error:
            errors[name] = error
    return errors


def json_type_error(field, value):
    if isinstance(field, (serializers.ListField, serializers.ListSerializer)) and isinstance(value, list):
        found = {i: json_type_error(field.child, item) for i, item in enumerate(value) if item is not None}
        return {i: error for i, error in found.items() if error} or None
    if isinstance(field, serializers.DecimalField):
        ok = isinstance(value, str) and re.fullmatch(amount_pattern(field), value)
        return None if ok else [_("Send the amount as text, e.g. \"12.50\".")]
    if isinstance(field, (serializers.CharField, serializers.DateTimeField, serializers.DateField)):
        return None if isinstance(value, str) else [_("Not a valid string.")]
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else [_("Must be a valid boolean.")]
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else [_("A valid integer is required.")]
    if isinstance(field, serializers.Serializer) and isinstance(value, dict):
        return json_type_errors(field.fields, value) or None
    return None


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
    """?page= and ?page_size=; a page size that is not a whole number from 1 is refused, not
    passed over for the default; a larger one than max_page_size gives max_page_size."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if not value:
            return self.page_size
        if not (value.isascii() and value.isdigit() and int(value) >= 1):
            raise serializers.ValidationError({self.page_size_query_param: [_("A whole number from 1 is required.")]})
        return min(int(value), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Results per page (default {self.page_size}; more than {self.max_page_size} gives {self.max_page_size})."
        return parameters


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
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                # Every view reads an empty ?name= as left out, as a form with a blank field sends it.
                parameter["allowEmptyValue"] = True
        return operation

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """What a request may send, as validation reads it: a list that may not be empty has an
        item at least; an amount is written as amount_pattern says."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not schema or "$ref" in schema:
            return schema
        if getattr(field, "allow_empty", True) is False and schema.get("type") == "array":
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        if isinstance(field, serializers.ListSerializer) and field.max_length is not None:
            schema["maxItems"] = field.max_length
        if isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = amount_pattern(field)
        return schema

    def map_parsers(self):
        # Forms are read too (a browser's convenience), but a form has no null, no number and no
        # list of objects: what the schema promises of a body holds in JSON only, so it offers
        # JSON. An operation that takes a file names multipart itself.
        return ["application/json"]

    def generic_errors(self, operation):
        parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        query = {name for where, name in parameters if where == "query"}
        statuses = set()
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses |= {401, 403}
        if "requestBody" in operation:
            statuses |= {400, 415}
        if query:  # a page size that is not one is refused too
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
