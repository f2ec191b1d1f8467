"""Django set up inside a bench helper process, with the environment run.py passes down."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    # Seeding creates 33 users; the production hasher spends ~0.3 s on each password nobody will type.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def throwaway_database(url):
    """Drop and recreate the PostgreSQL database in `url`, point Django at it, set up and migrate."""
    import subprocess

    name = url.rsplit("/", 1)[1]
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    os.environ.update(DATABASE_URL=url, ALLOWED_HOSTS="*")
    setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
