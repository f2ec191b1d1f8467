"""The REST API (/api/v1/), one module per resource: counter (check, redeem, reverse, mine),
vouchers (issue, list, import, actions, QR), products, reports (lists, stats, export) and
webhooks; staff.api has tokens, stores and staff. Each view validates its input, calls a service
or a selector, and shapes the answer with `present`; errors.py turns every refusal into the
contract's {"ok": false, "result", "message"} (an /api/ address that names nothing too); schema.py
describes the answers for the OpenAPI schema; urls.py routes them."""
