"""What the product counts for its operators (served at /metrics by config.metrics).

Under several server processes, PROMETHEUS_MULTIPROC_DIR names a directory the processes of a host
share: each writes its own figures there and whichever process answers a scrape adds them all up.
Unset, the figures are this process's alone.
"""

import functools

from prometheus_client import Counter, Gauge

from redemption.reasons import Refusal

REDEEMS = Counter("hexiao_redeem", "Redeems answered, by result: redeemed, or the refusal's reason.", ["result"])
CHECKS = Counter("hexiao_check", "Checks answered, by result: redeemable, or the refusal's reason.", ["result"])
# livesum: the open sockets of the processes still running (a dead one's are dropped at the next scrape).
LIVE_CONNECTIONS = Gauge("hexiao_live_connections", "Dashboard sockets open now.", multiprocess_mode="livesum")

_COUNTERS = {"redeem": REDEEMS, "check": CHECKS}


def scanned(kind, result):
    """Count one answer to a check or a redeem."""
    _COUNTERS[kind].labels(result=result).inc()


def counted(kind, success):
    """A service counted by its answer: `success` when it returns, the reason when it refuses."""

    def decorate(service):
        @functools.wraps(service)
        def counting(*args, **kwargs):
            try:
                outcome = service(*args, **kwargs)
            except Refusal as refusal:
                scanned(kind, refusal.reason)
                raise
            scanned(kind, success)
            return outcome

        return counting

    return decorate
