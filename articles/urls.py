"""Reader-facing URLs. Every route is named; code and templates use reverse()/{% url %}."""

from django.urls import path

from . import views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("news/<slug:slug>/", views.post_detail, name="post_detail"),
    path("c/<str:slug>/", views.category_detail, name="category_detail"),
    path("source/<str:slug>/", views.source_detail, name="source_detail"),
    path("stock/<int:market>.<str:code>/", views.stock_detail, name="stock_detail"),
    path("tag/<str:slug>/", views.tag_detail, name="tag_detail"),
    path("html_News/NewsShare.html", views.share, name="share"),
]
