import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from redemption import webhooks
from redemption.services import offline

# Between deliveries the worker derives the offline snapshots' digests (redemption.services.offline) for this
# long a pass; when a pass finds none missing, it looks again only after FILL_EVERY seconds.
FILL_SECONDS = 0.5
FILL_EVERY = 30.0

class Command(BaseCommand):
    help = (
        "Deliver webhook events, and between them derive the offline snapshots' digests: runs until "
        "stopped; --once delivers what is due and exits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes when idle")

    def handle(self, *args, once=False, interval=1.0, **options):
        if once:
            self.stdout.write(str(webhooks.run_once()))
            return
        self.stopping = False
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.stdout.write("delivering webhooks; stop with Ctrl-C or SIGTERM")
        fill_at = 0.0
        while not self.stopping:
            close_old_connections()
            done = webhooks.run_once()
            filled = 0
            if time.monotonic() >= fill_at:
                filled = offline.digests_fill(seconds=FILL_SECONDS)
                fill_at = time.monotonic() + (0 if filled else FILL_EVERY)
            if not any(done.values()) and not filled:
                time.sleep(interval)

    def stop(self, *args):
        # Finish the delivery in hand; the next start picks up whatever is still due.
        self.stopping = True
