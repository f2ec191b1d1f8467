"""Logging in and out of the staff pages (the scanner and the dashboard)."""


from django.contrib.auth import views as auth_views
from django.urls import reverse
from django.utils.translation import get_language

from staff import lockout

# The few words of the server-rendered pages; the scanner's own words live in static/staff/app.js.
TEXT = {
    "zh": {
        "title": "核销助手",
        "login": "登录",
        "login_hint": "店员登录后即可扫码核销",
        "username": "账号",
        "password": "密码",
        "noscript": "请开启浏览器的 JavaScript 后使用核销助手。",
        "locked": "密码错误次数过多，账号已临时锁定，请 {minutes} 分钟后再试。",
        "description": "门店扫码核销券码",
    },
    "en": {
        "title": "核销助手 Scanner",
        "login": "Log in",
        "login_hint": "Log in to redeem vouchers at the counter",
        "username": "Username",
        "password": "Password",
        "noscript": "Turn on JavaScript in your browser to use the scanner.",
        "locked": "Too many wrong passwords: this account is locked for {minutes} minutes.",
        "description": "Redeem voucher codes at the counter",
    },
}


def ui_text():
    return TEXT["en" if (get_language() or "").startswith("en") else "zh"]


class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(text=ui_text(), **kwargs)

    def get_default_redirect_url(self):
        return reverse("staff:scanner")

    def form_invalid(self, form):
        # While the username is locked out, say so rather than "wrong password" again.
        wait = lockout.locked_for(form.data.get("username", ""), self.request)
        if wait:
            form.errors["__all__"] = form.error_class([ui_text()["locked"].format(minutes=(wait + 59) // 60)])
        return super().form_invalid(form)


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view(next_page="/staff/login/")
