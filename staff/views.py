"""Logging in and out of the staff pages (the scanner and the dashboard)."""


from django.contrib.auth import views as auth_views
from django.urls import reverse
from django.utils.translation import ngettext

from staff import lockout

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
