"""Webhooks (owner) — 核销回传: where events are POSTed, signed with the webhook's secret."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from redemption import present, webhooks
from redemption.models import Webhook
from staff.apikit import ApiView, not_found, valid
from staff.permissions import OWNER


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook as the owner sends it; the answer is shaped by present.webhook_data."""

    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Webhook.EVENTS), allow_empty=False, max_length=len(Webhook.EVENTS)
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "secret", "is_active", "created_at"]
        read_only_fields = ["secret", "created_at"]

    def validate_url(self, value):
        problem = webhooks.target_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_events(self, value):
        return sorted(set(value))


class WebhookListView(ApiView):
    """Owner: where events are POSTed, signed with the webhook's secret (X-Signature: sha256=<hex>)."""

    roles = OWNER

    @extend_schema(responses=WebhookSerializer(many=True))
    def get(self, request):
        tz = request.member.merchant.tz
        return Response([present.webhook_data(h, tz) for h in request.member.merchant.webhooks.all()])

    @extend_schema(request=WebhookSerializer, responses={201: WebhookSerializer})
    def post(self, request):
        data = valid(WebhookSerializer, request)
        hook = Webhook.objects.create(merchant=request.member.merchant, **data)
        return Response(present.webhook_data(hook, request.member.merchant.tz), status=201)


class WebhookDetailView(ApiView):
    roles = OWNER

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        deleted, _rows = Webhook.objects.filter(merchant=request.member.merchant, pk=pk).delete()
        if not deleted:
            not_found()
        return Response(status=204)
