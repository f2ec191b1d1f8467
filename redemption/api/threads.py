"""The counter's endpoints: the fast path first, else a pool of threads of their own.

A token-authenticated JSON scan of a good voucher on PostgreSQL is served from the event loop by
redemption.fastpath. Everything else goes to the DRF view, as follows.


Django runs a sync view in a thread made for each request, and a DRF answer is rendered in yet
another hand-off. A scan spends most of its time waiting on the database, so here each check or
redeem is handed once to a standing pool of threads (one per pooled database connection), runs its
whole DRF view there, rendered, and comes back as a finished response: many scans of one server
process wait on PostgreSQL at the same time, and none waits for a thread to be made.

Under the test client (WSGI) the view runs where it is called, on the test's own connection.
"""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import HttpResponse, JsonResponse

from redemption import fastpath, metrics
from redemption.api.counter import outcome_body

THREADS = ThreadPoolExecutor(max_workers=settings.COUNTER_THREADS, thread_name_prefix="counter")


def finished(response):
    """A DRF answer as a plain, already rendered response: nothing is left for another thread."""
    response.render()
    plain = HttpResponse(response.content, status=response.status_code)
    for name, value in response.items():
        plain[name] = value
    return plain


def answer(result, served):
    member, store, voucher, redemption, said = served
    # A redeem's event says of the voucher and the redemption what the answer says: made once.
    body = outcome_body(result, store, voucher, redemption, member.merchant.tz, said=said)
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


def run_in_pool(view, fast=None, result=None):
    """The view for a URL: `fast` (a fastpath function) tried first, then `view` in the pool."""
    def work(request, *args, **kwargs):
        try:
            return finished(view(request, *args, **kwargs))
        finally:
            # Back to the pool (PostgreSQL) or closed (SQLite): the next scan may land on any thread.
            connection.close()

    async def pooled(request, *args, **kwargs):
        if isinstance(request, ASGIRequest):
            if fast is not None and fastpath.serves(request):
                try:
                    served = await fast(request)
                except fastpath.Declined:
                    pass
                else:
                    metrics.scanned(fast.__name__, result)  # fastpath.check or fastpath.redeem
                    request.staff_id = served[0].pk  # for the request's log line (DRF never saw it)
                    return answer(result, served)
            return await sync_to_async(work, thread_sensitive=False, executor=THREADS)(request, *args, **kwargs)
        return await sync_to_async(view, thread_sensitive=True)(request, *args, **kwargs)

    # drf-spectacular documents the view's DRF class through these.
    pooled.cls, pooled.initkwargs, pooled.csrf_exempt = view.cls, view.initkwargs, True
    return pooled
