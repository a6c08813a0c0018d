"""Chinese full-text search: the same hits as a plain substring scan, the results page (highlighting,
escaping, filters, sorting, pages, the stock box, bad queries), its feed and OpenSearch description, and
the search document kept in step by every writer."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from articles import generator
from articles import search as search_module
from articles.importer.writing import Lookups, write_parsed
from articles.models import Category, Market, Post, Source, Stock
from articles.search import (
    CAP,
    PER_PAGE,
    STATS_KEY,
    Statistics,
    choose_plan,
    find_stock,
    matching_posts,
    search,
    statistics,
    steered,
    windows,
)
from articles.search_text import LONG, MAX_POSITION, PERIOD_FUNCTION, document, fold, html_text, parse_query

pytestmark = pytest.mark.django_db

SEARCH = "/search/"


def titles(response):
    """The result titles of a search page, marks removed."""
    found = re.findall(r'<h3 class="post-title"><a href="[^"]+">(.*?)</a>', response.content.decode())
    return [re.sub(r"</?mark>", "", title) for title in found]


def found(query):
    return set(matching_posts(parse_query(query)).values_list("pk", flat=True))


# Correctness against a substring scan ---------------------------------------------------------------

# Every class of the benchmark, full and half width, case, phrases, exclusions, no hits.
QUERIES = [
    "股",
    "涨",
    "的",
    "元",  # one character
    "公司",
    "市场",
    "回购",
    "减持",  # two characters, common
    *generator.RARE_TERMS,  # two and three characters, rare
    "贵州茅台",
    "宁德时代",
    "营业收入",
    "战略合作协议",  # four characters and more
    '"拟以自有资金回购"',
    '"同比增长"',  # phrases
    "A股",
    "ETF",
    "5G",
    "AI",
    "CPI",  # mixed
    "ＥＴＦ",
    "Ａ股",
    "etf",
    "a股",
    "ｃｐｉ",  # full width, case
    "600519",
    "300750",
    "00700",  # codes
    "公司 回购",
    "茅台 营业收入",
    "市场 -公司",
    "回购 -减持 -茅台",  # several words, exclusions
    "不存在的词语",
    "锑矿 茅台",  # no hits
]


def scan_matches(text, term):
    """Whether the folded `text` holds `term` as search promises: any Chinese anywhere; an ASCII word from its
    start (`etf` in `etfs`, `600519` in `sh600519`, not `ai` in `chain`)."""
    pattern = re.escape(term)
    if term[0].isascii() and term[0].isalnum():
        pattern = (r"(?<![a-z])" if term[0].isalpha() else r"(?<![0-9])") + pattern
    return re.search(pattern, text) is not None


def scan(posts, query):
    """The ids of `posts` (id → folded field texts) holding every included term and no excluded one."""
    parsed = parse_query(query)

    def holds(texts, term):
        return any(scan_matches(text, term.text) for text in texts)

    return {
        pk
        for pk, texts in posts.items()
        if all(holds(texts, term) for term in parsed.included) and not any(holds(texts, t) for t in parsed.excluded)
    }


@pytest.fixture
def corpus(db):
    """300 generated posts, written by the importer's COPY path."""
    Stock.objects.bulk_create(
        [Stock(market=m, code=c, name=n) for m, c, n in generator.STOCKS + generator.BOARDS], ignore_conflicts=True
    )
    posts = list(generator.parsed_posts(300, seed=3, start=generator.RARE_EVERY // 2 - 150))
    # The rare terms live one post in thousands: give this small corpus each of them once.
    live = [post for post in posts if post.status == Post.Status.PUBLISHED and post.published_at < timezone.now()]
    for post, rare in zip(live[::40], generator.RARE_TERMS, strict=False):
        post.body += f"<p>公司在{rare}领域已有技术储备。</p>"
        post.build_derived()
    write_parsed(posts, Lookups())
    texts = {}
    for post in Post.objects.published().prefetch_related("tags", "stocks"):
        fields = [post.title, post.summary, html_text(post.body), *post.tags.names()]
        fields += [stock.code for stock in post.stocks.all()]
        texts[post.pk] = [" ".join(fold(field).split()) for field in fields]
    return texts


def test_search_finds_exactly_what_a_substring_scan_finds(corpus):
    assert len(QUERIES) >= 30
    hits = {}
    newest = list(Post.objects.published().order_by("-published_at", "-pk").values_list("pk", flat=True))
    for query in QUERIES:
        expected = scan(corpus, query)
        assert found(query) == expected, query
        hits[query] = len(expected)
        # The results page's path (candidates by token, then confirmed) finds the same, newest first.
        with transaction.atomic():
            results = search(query, sort="new")
        if results.stock is None:
            assert results.total == len(expected), query
            assert [hit.post.pk for hit in results.hits] == [pk for pk in newest if pk in expected][:PER_PAGE], query
    # The corpus exercises every class: common terms, rare ones, stocks, and queries without hits.
    assert hits["公司"] > 100 and hits["的"] > 200
    assert {rare: hits[rare] >= 1 for rare in generator.RARE_TERMS} == dict.fromkeys(generator.RARE_TERMS, True)
    assert hits["600519"] > 0 and hits["ETF"] > 0
    assert hits["不存在的词语"] == 0


def test_full_width_half_width_and_case_find_the_same_posts(corpus):
    assert found("ＥＴＦ") == found("etf") == found("ETF")
    assert found("Ａ股") == found("a股")


def test_a_phrase_needs_its_characters_in_order(make_post):
    in_order = make_post(body="<p>宁德时代发布公告</p>")
    scattered = make_post(body="<p>时代在变，宁德的工厂</p>")
    spaced = make_post(body="<p>宁德 时代</p>")

    assert found("宁德时代") == {in_order.pk}
    assert found('"宁德 时代"') == {spaced.pk}
    assert scattered.pk not in found("宁德时代")


def test_a_word_split_by_inline_markup_is_still_one_word(make_post):
    post = make_post(body='<p><a href="https://quote.eastmoney.com/sh600519.html">贵州</a>茅台涨停</p>')

    assert found("贵州茅台") == {post.pk}


def test_a_post_too_long_for_positions_is_still_found_by_words_past_them(make_post):
    filler = "行情" * (MAX_POSITION // 2 + 100)
    post = make_post(body=f"<p>{filler}</p><p>宁德时代</p>")

    assert f"'{LONG}'" in document((html_text(post.body), "D")).text()
    assert found("宁德时代") == {post.pk}


# The results page -------------------------------------------------------------------------------------


def test_results_show_title_snippet_category_source_and_beijing_time(client, make_post, category, source):
    when = datetime.datetime(2022, 5, 25, 1, 30, tzinfo=datetime.UTC)
    make_post(
        title="降准落地",
        summary="",
        body="<p>" + "前文" * 60 + "央行宣布全面降准0.25个百分点，释放长期资金。" + "后文" * 60 + "</p>",
        published_at=when,
    )

    html = client.get(SEARCH, {"q": "降准"}).content.decode()

    assert '<a href="/news/' in html and "<mark>降准</mark>落地" in html
    snippet = re.search(r'<p class="post-summary snippet">(.*?)</p>', html)[1]
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "央行宣布全面<mark>降准</mark>0.25" in snippet
    assert 60 <= len(re.sub(r"</?mark>|…", "", snippet)) <= 80
    assert "2022-05-25 09:30" in html  # Beijing time
    assert category.name in html and source.name in html


def test_query_and_text_are_escaped(client, make_post):
    make_post(title="<b>标题</b> 测试", body="<p>&lt;script&gt;alert(1)&lt;/script&gt; 测试</p>")

    html = client.get(SEARCH, {"q": "<script>alert(1)</script> 测试"}).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;标题&lt;/b&gt; <mark>测试</mark>" in html


def test_relevance_puts_title_matches_first_and_newer_wins_ties(client, make_post):
    now = timezone.now()
    make_post(title="其他新闻", body="<p>正文提到芯片</p>", published_at=now)
    make_post(title="芯片龙头", body="<p>正文</p>", published_at=now - datetime.timedelta(days=2))
    make_post(title="芯片产业", body="<p>正文</p>", published_at=now - datetime.timedelta(days=1))

    assert titles(client.get(SEARCH, {"q": "芯片"})) == ["芯片产业", "芯片龙头", "其他新闻"]
    assert titles(client.get(SEARCH, {"q": "芯片", "sort": "new"})) == ["其他新闻", "芯片产业", "芯片龙头"]


def test_drafts_and_scheduled_posts_are_never_found(client, make_post):
    make_post(title="芯片 已发布")
    make_post(title="芯片 草稿", status=Post.Status.DRAFT)
    make_post(title="芯片 定时", published_at=timezone.now() + datetime.timedelta(hours=1))

    assert titles(client.get(SEARCH, {"q": "芯片"})) == ["芯片 已发布"]


def test_filters_combine_with_the_query(client, make_post, category):
    other = Category.objects.create(slug="hk", name="港股")
    wire = Source.objects.create(name="新华社")
    tag = Tag.objects.create(name="半导体")
    day = timezone.make_aware(datetime.datetime(2022, 5, 25, 12))
    make_post(title="芯片 栏目", category=other, published_at=day)
    make_post(title="芯片 来源", source=wire, published_at=day - datetime.timedelta(days=1))
    make_post(title="芯片 标签", published_at=day - datetime.timedelta(days=2)).tags.add(tag)
    make_post(title="芯片 旧闻", published_at=day - datetime.timedelta(days=30))

    def search_titles(**filters):
        return titles(client.get(SEARCH, {"q": "芯片", "sort": "new", **filters}))

    assert search_titles(category="hk") == ["芯片 栏目"]
    assert search_titles(source=wire.slug) == ["芯片 来源"]
    assert search_titles(tag=tag.slug) == ["芯片 标签"]
    assert search_titles(**{"from": "2022-05-23", "to": "2022-05-24"}) == ["芯片 来源", "芯片 标签"]
    assert search_titles(**{"to": "2022-05-01"}) == ["芯片 旧闻"]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2022-13-01"},
        {"to": "yesterday"},
        {"from": "0001-01-01"},
        {"from": "2022-05-02", "to": "2022-05-01"},
        {"page": "0"},
        {"page": "x"},
        {"page": "99999999999999999999"},
        {"sort": "random"},
    ],
)
def test_bad_filters_sorts_and_pages_are_a_400_with_the_designed_page(client, published_post, params):
    response = client.get(SEARCH, {"q": "测试", **params})

    assert response.status_code == 400
    assert "链接有误" in response.content.decode()


def test_pages_hold_twenty_and_keep_the_query_filters_and_sort(client, make_post):
    for n in range(PER_PAGE + 5):
        make_post(title=f"芯片 {n}")

    first = client.get(SEARCH, {"q": "芯片", "sort": "new", "category": ""})
    html = first.content.decode()
    assert len(titles(first)) == PER_PAGE and "找到 25 条结果" in html
    next_link = re.search(r'rel="next" href="\?([^"]+)"', html)[1].replace("&amp;", "&")
    assert next_link == "q=%E8%8A%AF%E7%89%87&sort=new&page=2"
    second = client.get(f"{SEARCH}?{next_link}")
    assert titles(second) == [f"芯片 {n}" for n in range(PER_PAGE, PER_PAGE + 5)]
    assert 'rel="prev"' in second.content.decode() and 'rel="next"' not in second.content.decode()


def test_a_very_common_term_is_counted_up_to_the_cap(make_post, django_assert_max_num_queries):
    posts = [
        Post(title=f"市场 {n}", slug=f"m{n}", category_id=make_post().category_id, status="published")
        for n in range(CAP + 1)
    ]
    for post in posts:
        post.search_document = post.build_search_document()
    Post.objects.bulk_create(posts)

    # Expect 5 queries: the stock the query might name, the token statistics (then cached), the
    # candidates, the ranks of the newest of them, the page's posts.
    with django_assert_max_num_queries(5):
        results = search("市场")

    assert results.capped and results.total == CAP and len(results.hits) == PER_PAGE


def test_the_results_page_runs_a_fixed_number_of_queries(client, make_post, django_assert_max_num_queries):
    for n in range(30):
        make_post(title=f"芯片 {n}")

    # Expect 10: the site state; the transaction's savepoint, its timeout and release; the stock lookup,
    # the token statistics (then cached) and the plan they choose, the candidates, their ranks and the
    # page's posts.
    with django_assert_max_num_queries(10):
        response = client.get(SEARCH, {"q": "芯片"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x" * 101, "太长"),
        ("一 二 三 四 五 六 七 八 九", "太多"),
        ("!!! ??? ...", "没有文字或数字"),
        ("-芯片", "至少输入一个要包含的词"),
    ],
)
def test_junk_and_over_long_queries_get_a_friendly_message(client, published_post, query, message):
    response = client.get(SEARCH, {"q": query})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="post-item"' not in response.content.decode()


def test_an_empty_search_shows_the_form_and_how_to_search(client, db):
    response = client.get(SEARCH, {"q": "   "})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="search-page-q"' in html and "用 -词 排除" in html


def test_no_hits_says_so(client, published_post):
    html = client.get(SEARCH, {"q": "不存在的词"}).content.decode()

    assert "找到 0 条结果" in html and "没有找到含有「不存在的词」的文章" in html


def test_results_are_cacheable_and_not_indexed(client, published_post):
    response = client.get(SEARCH, {"q": "测试"})

    expected = {"public", "max-age=60", "s-maxage=2", "stale-while-revalidate=30"}
    assert set(response["Cache-Control"].split(", ")) == expected
    assert "ETag" in response
    assert '<meta name="robots" content="noindex, follow">' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "plan"),
    [
        ("公司", "the date index"),  # in 90% of posts: the newest thousand come after reading ~1,100
        ("公司 市场", "the date index"),
        ("锑矿", "the GIN bitmap"),  # in no sampled post: a few matches, sorted
        ('"拟以自有资金回购"', "the GIN bitmap"),  # 1%: the date index would read 100,000 documents
    ],
)
def test_the_plan_follows_how_common_the_terms_are(db, query, plan):
    frequencies = {"公司": 0.9, "市场": 0.8, "拟以": 0.01, "自有": 0.02, "资金": 0.3, "回购": 0.1}
    cache.set(STATS_KEY, Statistics(frequencies, 0.001, 1_000_000, []))

    with transaction.atomic():
        setting = choose_plan(parse_query(query), statistics())

    # Each plan is chosen by turning the other off.
    assert {"enable_bitmapscan": "the date index", "enable_indexscan": "the GIN bitmap"}[setting] == plan


@pytest.mark.parametrize(
    ("query", "share", "plan"),
    [
        ("的", 1.0, "the date index"),  # the newest thousand posts hold it
        ('"拟以自有资金回购"', 0.27, "the GIN bitmap"),  # a month's matches and a thousand checks beat 3,700
        ("ai", 0.3, "the date index"),  # a prefix: the index gathers every match, whatever the month
    ],
)
def test_the_plan_counts_the_matches_of_the_newest_months_alone(db, query, share, plan):
    tokens = {token: share for term in parse_query(query).terms for _, token, _ in term.steps()}
    bounds = [months_ago(100 - n) for n in range(101)]  # a hundred parts, a month each
    cache.set(STATS_KEY, Statistics(tokens, 0.0001, 1_000_000, bounds))
    query = parse_query(query)

    with transaction.atomic():
        setting = choose_plan(query, statistics(), since=windows(query, statistics())[0])

    assert {"enable_bitmapscan": "the date index", "enable_indexscan": "the GIN bitmap"}[setting] == plan


def test_past_the_cap_only_the_candidates_ranked_and_shown_are_checked(make_post, monkeypatch):
    monkeypatch.setattr(search_module, "CAP", 50)
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    # Every token of the phrase, out of order: a candidate of the GIN index that its document rejects.
    decoy = make_post(title="资金回购与自有资产", published_at=timezone.now())
    posts = [make_post(title=f"拟以自有资金回购 {n}") for n in range(60)]

    with CaptureQueriesContext(connection) as queries:
        results = search_module.search('"自有资金回购"', sort="new")

    assert [hit.post for hit in results.hits] == posts[:PER_PAGE]
    assert decoy not in [hit.post for hit in results.hits]
    assert results.capped and results.pages == 50 // PER_PAGE + 1
    # Of the 51 candidates, checked by their documents in order: this page's worth, then as many again for
    # the one the decoy took; not the rest.
    checks = [query["sql"] for query in queries if "ts_match_vq" in query["sql"]]
    checked = [re.search(r'"articles_post"\."id" IN \(([^)]*)\)', sql)[1].split(", ") for sql in checks]
    assert [len(ids) for ids in checked] == [PER_PAGE, PER_PAGE]


def test_the_plan_is_steered_for_finding_the_candidates_alone(db):
    cache.set(STATS_KEY, Statistics({"锑矿": 0.0001}, 0.0001, 1_000_000, []))

    def setting(name):
        with connection.cursor() as cursor:
            cursor.execute(f"SHOW {name}")
            return cursor.fetchone()[0]

    with transaction.atomic():
        with steered(parse_query("锑矿"), statistics()) as turned_off:
            during = setting(turned_off), setting("enable_seqscan")
        after = setting(turned_off), setting("enable_seqscan")

    # Confirming candidates by id and walking a stock's linked posts need the index scans back.
    assert (during, after) == (("off", "off"), ("on", "on"))


def test_confirming_a_candidate_row_by_row_agrees_with_the_index(corpus):
    for text in ("宁德时代", '"同比增长"', "芯片 -减持", "sh600519"):
        query = parse_query(text)
        posts = Post.objects.published()

        by_index = set(posts.text_search(query).values_list("pk", flat=True))
        by_row = set(posts.text_search(query, by_row=True).values_list("pk", flat=True))

        assert by_row == by_index
        assert by_index or text == "sh600519"


def months_ago(count):
    return timezone.now() - datetime.timedelta(days=31 * count)


def test_a_term_in_many_posts_is_looked_for_in_the_newest_months_first():
    # By the statistics, 回购 is in 5% of a million posts: 50,000 matches, too many to visit, too few to walk.
    bounds = [months_ago(100 - n) for n in range(101)]  # a hundred parts, a month each
    cache.set(STATS_KEY, Statistics({"回购": 0.05}, 0.0001, 1_000_000, bounds))

    nearest, wider, everything = windows(parse_query("回购"), statistics())

    # 2,002 of 50,000 matches (4%) are expected within the newest 4 months, then within 8 times as many;
    # rounded to the histogram's parts, never fewer months.
    assert 4 * 31 - 1 <= (timezone.now() - nearest).days <= 5 * 31 + 1
    assert 32 * 31 - 1 <= (timezone.now() - wider).days <= 33 * 31 + 1
    assert everything is None


def test_rare_terms_scheduled_posts_and_no_statistics_leave_nothing_to_narrow(db):
    assert windows(parse_query("回购"), statistics()) == [None]  # no statistics yet
    cache.set(STATS_KEY, Statistics({"回购": 0.001}, 0.0001, 1_000_000, [months_ago(n) for n in (3, 2, 1)]))
    assert windows(parse_query("回购"), statistics()) == [None]  # 1,000 matches: the index hands them over at once
    future = [timezone.now() + datetime.timedelta(days=n) for n in (1, 2, 3)]
    cache.set(STATS_KEY, Statistics({"回购": 0.5}, 0.0001, 1_000_000, future))
    assert windows(parse_query("回购"), statistics()) == [None]  # only scheduled posts after now


def test_the_index_knows_each_posts_month_from_its_publication_time_alone(make_post):
    post = make_post(title="回购公告", published_at=months_ago(6))
    query = parse_query("回购")

    def in_window(since):
        return post.pk in set(Post.objects.text_search(query, since=since).values_list("pk", flat=True))

    assert in_window(months_ago(7)) and not in_window(months_ago(5))
    # Moved in time by a bulk update, which rebuilds no document: the index follows at once.
    Post.objects.filter(pk=post.pk).update(published_at=months_ago(1))
    assert in_window(months_ago(2)) and not in_window(months_ago(0))


@pytest.mark.parametrize("since", [None, 3], ids=["every post", "the newest months"])
def test_a_search_through_the_index_uses_the_gin_index(make_post, since):
    make_post(title="回购公告")
    posts = Post.objects.text_search(parse_query("回购"), since=since and months_ago(since))
    with transaction.atomic(), connection.cursor() as cursor:
        # As choose_plan steers a search through the GIN index.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        plan = posts.explain()

    assert "Bitmap Index Scan on post_search_document" in plan


def test_a_search_walking_the_date_index_tests_each_document_alone(make_post):
    make_post(title="回购公告")
    # A term in most posts: PostgreSQL walks the newest posts, testing each one's document as it goes.
    cache.set(STATS_KEY, Statistics({"回购": 0.9}, 0.0001, 1_000_000, [months_ago(100 - n) for n in range(101)]))

    with CaptureQueriesContext(connection) as queries:
        results = search("回购")

    assert results.total == 1
    searches = [query["sql"] for query in queries if "@@" in query["sql"]]
    # Working out each post's month too would cost every row walked past, for nothing.
    assert searches and not any(PERIOD_FUNCTION in sql for sql in searches)


@pytest.mark.parametrize("in_window", [CAP + 1, 3], ids=["enough in the window", "too few: wider, then all"])
def test_windows_find_the_same_newest_matches_as_the_whole_index(make_post, in_window):
    category = make_post().category
    posts = [
        Post(
            title=f"回购 {n}",
            slug=f"w{n}",
            category=category,
            status="published",
            published_at=months_ago(0) - datetime.timedelta(minutes=n),
        )
        for n in range(in_window)
    ]
    posts += [
        Post(title=f"回购 旧 {n}", slug=f"o{n}", category=category, status="published", published_at=months_ago(40 + n))
        for n in range(5)
    ]
    for post in posts:
        post.search_document = post.build_search_document()
    Post.objects.bulk_create(posts)
    everywhere = search("回购", sort="new")
    bounds = [months_ago(100 - n) for n in range(101)]
    cache.set(STATS_KEY, Statistics({"回购": 0.05}, 0.0001, 1_000_000, bounds))

    with CaptureQueriesContext(connection) as queries:
        windowed = search("回购", sort="new")

    assert [hit.post.pk for hit in windowed.hits] == [hit.post.pk for hit in everywhere.hits]
    assert (windowed.total, windowed.capped) == (everywhere.total, everywhere.capped)
    searches = [query["sql"] for query in queries if "@@" in query["sql"]]
    # Within the newest months, then (too few there) 8 times as many months, then everywhere.
    assert [sql.count("'~") > 0 for sql in searches] == ([True] if in_window > CAP else [True, True, False])


# Stocks -------------------------------------------------------------------------------------------------


@pytest.fixture
def moutai(db):
    return Stock.objects.create(market=Market.SHANGHAI, code="600519", name="贵州茅台")


@pytest.mark.parametrize("query", ["600519", "sh600519", "600519.SH", "贵州茅台", "６００５１９"])
def test_a_stock_code_or_name_finds_the_stock(moutai, query):
    assert find_stock(parse_query(query)) == moutai


def test_hong_kong_codes_are_found_bare_or_with_their_suffix(db):
    sensetime = Stock.objects.create(market=Market.HONG_KONG, code="00020", name="商汤-W")

    assert find_stock(parse_query("00020")) == sensetime
    assert find_stock(parse_query("00020.HK")) == sensetime
    assert find_stock(parse_query("20")) == sensetime
    assert find_stock(parse_query("00020 回购")) is None


def test_a_stock_query_shows_the_stock_box_first_then_posts_that_chart_or_mention_it(client, make_post, moutai):
    charted = make_post(title="白酒板块走强", body="<p>[stock 1.600519]</p>")
    charted.stocks.add(moutai)
    named = make_post(title="贵州茅台发布公告")
    make_post(title="五粮液发布公告")

    html = client.get(SEARCH, {"q": "贵州茅台"}).content.decode()

    box = html.index('class="stock-box"')
    assert box < html.index('class="post-list')
    assert f'href="{moutai.get_absolute_url()}"' in html[box:]
    assert "nid=1.600519" in html[box:]  # its chart
    assert set(titles(client.get(SEARCH, {"q": "600519"}))) == {charted.title, named.title}


def test_a_stock_query_finds_its_posts_by_the_code_their_documents_hold(make_post, moutai):
    charted = make_post(title="白酒板块走强")
    charted.stocks.add(moutai)
    charted.refresh_search_document()  # as the admin and the importer write it, with the post's links
    make_post(title="白酒消费回暖")

    with CaptureQueriesContext(connection) as queries:
        results = search("贵州茅台")

    assert [hit.post for hit in results.hits] == [charted]
    # Walking the newest posts for the stock's links would read thousands of rows at a million posts.
    assert not [query for query in queries if "articles_post_stocks" in query["sql"]]


def test_a_stock_code_is_looked_for_as_a_whole_word(client, make_post):
    Stock.objects.create(market=Market.HONG_KONG, code="00020", name="商汤")
    coded = make_post(title="港股 00020 走强")
    named = make_post(title="商汤发布新模型")
    make_post(title="2025年港股展望")  # a number that begins with the query's digits
    make_post(title="000200 公告")  # a longer code

    # `20` names Hong Kong's 00020: its code and name, not every number beginning 20.
    assert set(titles(client.get(SEARCH, {"q": "20"}))) == {coded.title, named.title}
    assert set(titles(client.get(SEARCH, {"q": "00020"}))) == {coded.title, named.title}


# The feed and OpenSearch --------------------------------------------------------------------------------


def test_a_search_has_an_atom_feed_of_its_newest_posts(client, make_post):
    make_post(title="芯片 新", published_at=timezone.now())
    make_post(title="芯片 旧", published_at=timezone.now() - datetime.timedelta(days=1))
    make_post(title="其他")

    response = client.get(reverse("articles:search_feed"), {"q": "芯片"})

    xml = response.content.decode()
    assert response["Content-Type"].startswith("application/atom+xml")
    assert re.findall(r"<entry><title>([^<]+)</title>", xml) == ["芯片 新", "芯片 旧"]
    assert "搜索「芯片」" in xml
    page = client.get(SEARCH, {"q": "芯片"}).content.decode()
    assert (
        'type="application/atom+xml" title="「芯片」的最新结果 Atom" href="/search/atom.xml?q=%E8%8A%AF%E7%89%87"'
        in page
    )


def test_a_feed_of_a_bad_query_is_a_400(client, db):
    assert client.get(reverse("articles:search_feed"), {"q": ""}).status_code == 400
    assert client.get(reverse("articles:search_feed"), {"q": "芯片", "from": "x"}).status_code == 400


def test_every_page_offers_the_opensearch_description_and_the_header_box(client, published_post):
    home = client.get(reverse("articles:home")).content.decode()
    assert '<link rel="search" type="application/opensearchdescription+xml"' in home
    assert 'id="site-search-q" type="search" name="q"' in home

    response = client.get(reverse("articles:opensearch"))

    xml = response.content.decode()
    assert response["Content-Type"] == "application/opensearchdescription+xml"
    assert 'template="http://127.0.0.1:8000/search/?q={searchTerms}"' in xml
    assert 'template="http://127.0.0.1:8000/search/atom.xml?q={searchTerms}"' in xml


# The document kept in step --------------------------------------------------------------------------------


def test_saving_a_post_rewrites_its_document(published_post):
    published_post.title = "全新标题 降准"
    published_post.save()

    assert found("降准") == {published_post.pk}


def test_changing_only_the_status_does_not_rebuild_the_document(published_post):
    published_post.status = Post.Status.DRAFT

    with CaptureQueriesContext(connection) as captured:
        published_post.save(update_fields=["status"])

    # Tags and stocks are not read, nor the document written, for a change that cannot alter it.
    assert not [query for query in captured if "UNION" in query["sql"] or "search_document" in query["sql"]]


def test_refresh_takes_in_tags_and_stock_codes(published_post, moutai):
    published_post.tags.add("白酒")
    published_post.stocks.add(moutai)
    assert found("白酒") == found("600519") == set()

    published_post.refresh_search_document()

    assert found("白酒") == found("600519") == {published_post.pk}


def test_unpublished_and_deleted_posts_leave_the_results(published_post, editor):
    published_post.title = "降准"
    published_post.save()
    Post.objects.filter(pk=published_post.pk).unpublish(editor)
    assert found("降准") == set()

    Post.objects.filter(pk=published_post.pk).delete()
    assert not Post.objects.filter(search_document__matches="'降准'").exists()


def test_the_migration_and_writers_use_the_same_tokeniser(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::tsvector @@ %s::tsquery", [document(("ＥＴＦ基金上涨", "A")), parse_query("etf基金").tsquery()]
        )
        assert cursor.fetchone()[0]


# The admin --------------------------------------------------------------------------------------------------


def test_the_admin_changelist_searches_the_same_index_and_codes_exactly(admin_client, make_post):
    in_body = make_post(title="无关标题", body="<p>正文里说到降准</p>", status=Post.Status.DRAFT)
    coded = make_post(title="另一篇", info_code="NW202205252391453833", key="NW202205252391453833")
    make_post(title="其他")
    changelist = reverse("admin:articles_post_changelist")

    def listed(query):
        html = admin_client.get(changelist, {"q": query}).content.decode()
        return {post.title for post in (in_body, coded) if f"/admin/articles/post/{post.pk}/change/" in html}

    assert listed("降准") == {in_body.title}  # drafts too: editors search everything
    assert listed("NW202205252391453833") == {coded.title}
    assert listed("降准 -正文") == set()
    assert admin_client.get(changelist, {"q": "!!!"}).status_code == 200


def test_the_results_page_runs_under_a_statement_timeout(client, published_post):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(SEARCH, {"q": "商汤"})

    assert "SET LOCAL statement_timeout = 2000" in [query["sql"] for query in captured.captured_queries]
    assert titles(response) == [published_post.title]
