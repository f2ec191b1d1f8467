from django.core.management.base import BaseCommand

from redemption import services


class Command(BaseCommand):
    help = "Encrypt every card password again under the first FIELD_ENCRYPTION_KEY (after adding a new key)."

    def handle(self, *args, **options):
        moved = services.passwords_reencrypt()
        self.stdout.write(f"{moved} card passwords now under the first key.")
