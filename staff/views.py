from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

login_view = auth_views.LoginView.as_view(template_name="staff/login.html", redirect_authenticated_user=True)
logout_view = auth_views.LogoutView.as_view(next_page="/staff/login/")


@login_required(login_url="/staff/login/")
def scanner(request):
    return render(request, "staff/scanner.html")
