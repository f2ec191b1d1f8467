"""Reading dates and ranges: validity bounds and report ranges are the merchant's local days."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers

from redemption import present


def local_date(value, field):
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise serializers.ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]}) from None


@extend_schema_field(OpenApiTypes.DATETIME)
class LocalDateTimeField(serializers.Field):
    """Takes YYYY-MM-DD (the start of that day, or its end with end_of_day) or a full ISO 8601 time,
    in the merchant's time zone."""

    default_error_messages = {
        "invalid": gettext_lazy("Enter a date as YYYY-MM-DD or a time as ISO 8601."),
        "out_of_range": gettext_lazy("Enter a date between the years {first} and {last}."),
    }
    # Before 2000 some time zones still had offsets in odd seconds (Shanghai's local mean time
    # was +08:05:43), which no ISO 8601 offset in an answer can carry; no voucher lives there.
    YEARS = range(2000, 3000)

    def __init__(self, *, end_of_day=False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        tz = self.context["tz"]
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                moment = dt.datetime.combine(day, dt.time.max if self.end_of_day else dt.time.min, tzinfo=tz)
            else:
                moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail("invalid")
        if moment.year not in self.YEARS:
            self.fail("out_of_range", first=self.YEARS[0], last=self.YEARS[-1])
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)

    def to_representation(self, value):
        return present.when(value, self.context["tz"])


def date_range(params, tz):
    """?from=&to= as local days; today when left out."""
    today = timezone.now().astimezone(tz).date()
    day_from = local_date(params["from"], "from") if params.get("from") else today
    day_to = local_date(params["to"], "to") if params.get("to") else max(day_from, today)
    if day_to < day_from:
        raise serializers.ValidationError({"to": [_("The end of the range is before its start.")]})
    if (day_to - day_from).days > 366:
        raise serializers.ValidationError({"to": [_("Ask for at most one year at a time.")]})
    return day_from, day_to


RANGE_PARAMETERS = [OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE)]
