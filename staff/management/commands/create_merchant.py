import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from staff.services import merchant_create


class Command(BaseCommand):
    help = "Create a merchant and its owner account."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the merchant's name, as staff and buyers see it")
        parser.add_argument("--owner", required=True, help="the owner's username")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--password", help="the owner's password (visible in the process list: prefer --password-env)")
        group.add_argument("--password-env", metavar="VAR", help="the environment variable holding the owner's password")

    def handle(self, *args, name, owner, password, password_env, **options):
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"the environment variable {password_env} is not set or empty")
        name = name.strip()
        if not name:
            raise CommandError("the merchant needs a name")
        if get_user_model().objects.filter(username__iexact=owner).exists():
            raise CommandError(f"the username {owner!r} is taken")
        try:
            validate_password(password, get_user_model()(username=owner))
        except ValidationError as error:
            raise CommandError("password: " + " ".join(error.messages)) from None
        member = merchant_create(name=name, owner_username=owner, owner_password=password)
        self.stdout.write(f"merchant {member.merchant.pk} {name!r} created; owner {owner!r} can log in at /admin/ and /staff/")
