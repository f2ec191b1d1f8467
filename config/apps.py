from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """The admin site, open to merchant owners (scoped to their merchant) as well as superusers."""

    default_site = "staff.admin_site.ScopedAdminSite"
