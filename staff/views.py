"""Logging in and out of the staff pages (the scanner and the dashboard), by password or by a sign-in QR."""


import io

import qrcode
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from qrcode.image.svg import SvgPathImage

from staff import devices, lockout
from staff.models import Device

class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("staff:scanner")

    def form_invalid(self, form):
        # While the username is locked out, say so rather than "wrong password" again.
        wait = lockout.locked_for(form.data.get("username", ""), self.request)
        if wait:
            minutes = (wait + 59) // 60
            form.errors["__all__"] = form.error_class([ngettext(
                "Too many wrong passwords: this account is locked. Try again in %(minutes)d minute.",
                "Too many wrong passwords: this account is locked. Try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}])
        return super().form_invalid(form)


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view(next_page="/staff/login/")


@method_decorator(never_cache, name="dispatch")
class SigninLinkView(View):
    """A sign-in QR's link. GET only shows who would be signed in (a chat app that previews the link
    spends nothing); POST signs this browser in as that member and goes to the scanner. A link that
    is used, expired, replaced or whose member was deactivated answers 410."""

    def get(self, request, token):
        link = devices.signin_link_usable(token)
        if link is None:
            return _gone(request)
        stores = [s.name for s in link.member.stores.all()] if not link.member.is_owner else []
        return render(request, "staff/signin.html", {"member": link.member, "stores": stores})

    def post(self, request, token):
        member = devices.signin_link_spend(token)
        if member is None:
            return _gone(request)
        request.signin_how = Device.How.QR
        login(request, member.user, backend=settings.AUTHENTICATION_BACKENDS[0])
        return redirect("staff:scanner")


def _gone(request):
    response = render(request, "staff/signin.html", {"member": None}, status=410)
    # Django would log "Gone: /s/<token>/": a sign-in link is never written to a log.
    response._has_been_logged = True
    return response


@never_cache
def signin_qr_svg(request, token):
    """The link's QR, for the owner's screen; it shows nothing a holder of the link has not got."""
    if devices.signin_link_usable(token) is None:
        return _gone(request)
    buffer = io.BytesIO()
    qrcode.make(request.build_absolute_uri(f"/s/{token}/"), image_factory=SvgPathImage, box_size=10, border=2).save(buffer)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


signin_link_view = SigninLinkView.as_view()
