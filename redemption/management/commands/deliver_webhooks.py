import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from redemption import webhooks


class Command(BaseCommand):
    help = "Deliver webhook events: runs until stopped; --once delivers what is due and exits."

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
        while not self.stopping:
            close_old_connections()
            done = webhooks.run_once()
            if not any(done.values()):
                time.sleep(interval)

    def stop(self, *args):
        # Finish the delivery in hand; the next start picks up whatever is still due.
        self.stopping = True
