"""Reader pages. Each view starts from Post.objects.published()."""

from django.shortcuts import get_object_or_404, render

from .models import Category, Post, Source, Stock


def home(request):
    posts = Post.objects.published().select_related("category", "source")[:30]
    return render(request, "articles/home.html", {"posts": posts})


def post_detail(request, slug):
    post = get_object_or_404(Post.objects.published().select_related("category", "source"), slug=slug)
    return render(request, "articles/post_detail.html", {"post": post})


def category_detail(request, slug):
    category = get_object_or_404(Category, slug__iexact=slug)
    posts = Post.objects.published().in_category(category).select_related("source")[:30]
    return render(request, "articles/post_list.html", {"title": category.name, "posts": posts})


def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    posts = source.posts.published()[:30]
    return render(request, "articles/post_list.html", {"title": source.name, "posts": posts})


def stock_detail(request, market, code):
    stock = get_object_or_404(Stock, market=market, code=code)
    posts = stock.posts.published()[:30]
    return render(request, "articles/post_list.html", {"title": str(stock), "posts": posts})


def tag_detail(request, slug):
    posts = Post.objects.published().filter(tags__slug=slug)[:30]
    return render(request, "articles/post_list.html", {"title": slug, "posts": posts})


def share(request):
    post = get_object_or_404(Post.objects.published(), info_code=request.GET.get("infoCode", ""))
    return render(request, "articles/post_detail.html", {"post": post})
