import datetime as dt
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from redemption import retention

# pg_advisory_lock key of the prune: two runs at once (a slow run and the next day's) would count
# the same refusals twice into the totals.
PRUNE_LOCK = 0x68657869616F


@contextmanager
def only_one_prune():
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [PRUNE_LOCK])
        if not cursor.fetchone()[0]:
            raise CommandError("another prune is running; try again once it has finished")
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PRUNE_LOCK])


class Command(BaseCommand):
    help = ("Delete what is kept no longer (RETAIN_ATTEMPTS_DAYS, RETAIN_EVENTS_DAYS, RETAIN_BUYER_PHONE_DAYS) "
            "and say how much. Meant to run daily.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")

    def handle(self, *args, dry_run=False, **options):
        days = {name: getattr(settings, name) for name in
                ("RETAIN_ATTEMPTS_DAYS", "RETAIN_EVENTS_DAYS", "RETAIN_BUYER_PHONE_DAYS")}
        for name, value in days.items():
            if value < 0:
                raise CommandError(f"{name} must be 0 or more days, not {value}")
        now = timezone.now()
        before = {name: now - dt.timedelta(days=value) for name, value in days.items()}
        verb = "would be " if dry_run else ""
        with only_one_prune():
            n = retention.attempts_prune(before["RETAIN_ATTEMPTS_DAYS"], dry_run=dry_run)
            self.stdout.write(f"refused attempts and checks older than {days['RETAIN_ATTEMPTS_DAYS']} days: "
                              f"{n} {verb}deleted")
            n = retention.events_prune(before["RETAIN_EVENTS_DAYS"], dry_run=dry_run)
            self.stdout.write(f"live events older than {days['RETAIN_EVENTS_DAYS']} days, webhooks done: "
                              f"{n} {verb}deleted")
            n = retention.buyer_phones_erase(before["RETAIN_BUYER_PHONE_DAYS"], dry_run=dry_run)
            self.stdout.write(f"buyer phones of vouchers ended over {days['RETAIN_BUYER_PHONE_DAYS']} days ago: "
                              f"{n} {verb}erased")
