"""Bulk-load generated news into a migrated finews database, fast, for benchmarks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finews_bench python bench/seed_db.py --count 1000000 --reset

Everything is generated inside PostgreSQL with generate_series, in batches, straight into
the real tables (no ORM, no history rows): categories with a realistic skew (the largest
holds about a third of the posts, like the old site's 东财滚动新闻), sources, stocks, posts
with Chinese titles, summaries and HTML bodies, tags through TaggedPost, and for about 40%
of posts a stock chart plus the matching Post.stocks row. A handful of posts are drafts or
scheduled, so visibility rules are exercised too. Every value is a function of the post id,
so two runs with the same --count produce the same data.
"""

import argparse
import os
import sys
import time

import psycopg
from django.utils.text import slugify
from pypinyin import lazy_pinyin

# (slug as the old site spelled it, display name, weight, source name or None for mixed sources)
CATEGORIES = [
    ("emnews", "东财滚动新闻", 330, None),
    ("shanghaizhengquanbao·zhongguozhengquanwang", "上海证券报·中国证券网新闻", 120, "上海证券报·中国证券网"),
    ("zhengquanshibao", "证券时报新闻", 90, "证券时报"),
    ("zhongguozhengquanbao", "中国证券报新闻", 80, "中国证券报"),
    ("21shijijingjibaodao 21caijingAPP", "21世纪经济报道 21财经APP新闻", 60, "21世纪经济报道"),
    ("diyicaijing", "第一财经新闻", 50, "第一财经"),
    ("cailianshe", "财联社新闻", 45, "财联社"),
    ("meirijingjixinwen", "每日经济新闻", 40, "每日经济新闻"),
    ("TechWeb", "TechWeb新闻", 30, "TechWeb"),
    ("zhengquanribao", "证券日报新闻", 28, "证券日报"),
    ("jingjiguanchabao", "经济观察报新闻", 25, "经济观察报"),
    ("xinhuashe", "新华社新闻", 22, "新华社"),
    ("anxinguojizhengquan(xianggang)", "安信国际证券(香港)新闻", 18, "安信国际证券(香港)"),
    ("zhitongcaijing", "智通财经新闻", 16, "智通财经"),
    ("gelonghui", "格隆汇新闻", 14, "格隆汇"),
    ("jiemianxinwen", "界面新闻", 12, "界面新闻"),
    ("pengpaixinwen", "澎湃新闻", 10, "澎湃新闻"),
    ("zhongguojijinbao", "中国基金报新闻", 9, "中国基金报"),
    ("kechuangbanribao", "科创板日报新闻", 8, "科创板日报"),
    ("zhongxinjingwei", "中新经纬新闻", 7, "中新经纬"),
    ("beijingshangbao", "北京商报新闻", 6, "北京商报"),
    ("jinrongjie", "金融界新闻", 5, "金融界"),
    ("quanshangzhongguo", "券商中国新闻", 4, "券商中国"),
    ("hongxingxinwen", "红星新闻", 3, "红星新闻"),
    ("sitenews", "站长消息", 1, "finews"),
]
EXTRA_SOURCES = ["证券时报网", "东方财富研究中心", "中国经营报", "国际金融报", "华夏时报", "上海证券报"]

TOPIC_TAGS = [
    "A股", "港股", "美股", "新能源", "半导体", "医药", "银行", "券商", "基金", "央行", "人民币", "房地产",
    "人工智能", "消费", "白酒", "光伏", "锂电池", "汽车", "芯片", "科创板", "创业板", "北交所", "IPO", "并购重组",
    "业绩预告", "分红", "回购", "减持", "增持", "北向资金", "外资", "债券", "期货", "黄金", "原油", "大宗商品",
    "宏观经济", "通胀", "利率", "汇率", "监管", "数字经济", "碳中和", "军工", "传媒", "游戏", "教育", "保险",
]  # fmt: skip

# (market, code, name): well-known ones first, then generated ones fill the list out.
KNOWN_STOCKS = [
    (116, "00020", "商汤-W"), (1, "600519", "贵州茅台"), (0, "300750", "宁德时代"), (116, "00700", "腾讯控股"),
    (1, "601318", "中国平安"), (0, "000001", "平安银行"), (116, "09988", "阿里巴巴-W"), (105, "TSLA", "特斯拉"),
    (105, "AAPL", "苹果"), (0, "002752", "昇兴股份"), (1, "600036", "招商银行"), (0, "002594", "比亚迪"),
    (116, "03690", "美团-W"), (105, "NVDA", "英伟达"), (106, "BABA", "阿里巴巴"), (1, "601012", "隆基绿能"),
    (0, "000858", "五粮液"), (1, "600900", "长江电力"), (116, "01810", "小米集团-W"), (107, "SIM", "西米亚"),
    (90, "BK0473", "证券"), (100, "HSI", "恒生指数"),
]  # fmt: skip
NAME_HEADS = list("华中国长东南西北新金宏泰恒瑞海天安信达广盛嘉凯鼎兴利通博明诚永康德润汇鑫航远")
NAME_TAILS = [
    "科技", "股份", "医药", "能源", "电子", "控股", "智能", "新材", "环保", "传媒", "证券", "银行", "地产", "汽车",
    "化工", "食品", "电力", "重工", "生物", "软件",
]  # fmt: skip
GENERATED_STOCKS = 600

TITLE_TEMPLATES = [
    "%1$s：%3$s年净利同比预增%4$s%%-%5$s%%",
    "%1$s：拟回购不超过%4$s亿元公司股份",
    "%2$s板块午后拉升 %1$s涨超%6$s%%",
    "%1$s发布%3$s年年报 营收同比增长%4$s%%",
    "%2$s概念股走强，%1$s等多股涨停",
    "%1$s：控股股东拟减持不超过%6$s%%股份",
    "机构调研%1$s：%2$s业务订单饱满 产能持续释放",
    "北向资金今日净买入%4$s亿元 重点加仓%2$s板块",
    "%1$s获%4$s家机构调研 聚焦%2$s布局",
    "央行开展%4$s亿元逆回购操作 %2$s板块走势分化",
    "%1$s与多方签署战略合作协议 加码%2$s赛道",
    "%2$s行业迎政策利好 %1$s有望受益",
    "%1$s：子公司中标%4$s亿元项目",
    "沪指震荡收涨%6$s%% %2$s板块领涨两市",
    "%1$s股价异动 公司回应：经营情况正常",
]
SUMMARY_TEMPLATES = [
    "%1$s公告称，预计%3$s年度实现归属于上市公司股东的净利润同比增长%4$s%%至%5$s%%，主要受益于%2$s业务需求旺盛。",
    "今日%2$s板块表现活跃，%1$s盘中涨幅一度超过%6$s%%，成交额较前一交易日明显放大。",
    "%1$s表示，公司将继续聚焦%2$s主业，稳步推进产能建设，预计全年出货量同比增长%4$s%%左右。",
    "据%1$s披露，公司近期接待了%4$s家机构调研，机构普遍关注%2$s业务的订单与毛利率变化。",
    "市场人士认为，%2$s行业景气度持续回升，%1$s等龙头公司有望率先受益，短期波动不改中长期趋势。",
]
BODY_SENTENCES = [
    "%1$s在公告中表示，报告期内公司%2$s业务保持稳健增长，核心产品市场占有率进一步提升。",
    "从行业层面看，%2$s领域的政策支持力度不断加大，下游需求逐步回暖，行业集中度持续提高。",
    "公司相关负责人介绍，今年以来已累计投入研发资金%4$s亿元，同比增长%5$s%%，新产品陆续进入量产阶段。",
    "多家券商研报指出，%1$s估值处于历史较低区间，随着%2$s业务放量，业绩有望迎来拐点。",
    "二级市场上，截至收盘，%1$s股价报%4$s.%6$s元，全天成交额约%5$s亿元，换手率%6$s.%4$s%%。",
    "值得注意的是，公司此前披露的定增方案已获监管部门受理，募集资金将主要用于%2$s项目建设。",
    "业内人士分析称，%3$s年%2$s行业竞争格局趋于稳定，具备技术与成本优势的企业将获得更大市场份额。",
    "记者注意到，%1$s近三个月累计获北向资金增持约%4$s万股，外资持股比例升至%6$s.%5$s%%。",
    "公司同时提示，上述预测数据仅为初步测算结果，具体财务数据以正式披露的%3$s年年度报告为准。",
    "对于后续发展，公司表示将围绕%2$s主线，持续优化产品结构，提升经营效率，积极回报投资者。",
]

BATCH = 100_000


def category_slots(categories):
    """1,000 slots, each holding a category index, in proportion to the categories' weights."""
    total = sum(weight for _slug, _name, weight, _source in categories)
    slots = []
    for index, (_slug, _name, weight, _source) in enumerate(categories, start=1):
        slots += [index] * round(1000 * weight / total)
    return (slots + [1] * 1000)[:1000]


def generated_stocks():
    """KNOWN_STOCKS plus plausible A-share, Hong Kong and US listings with made-up names."""
    stocks = list(KNOWN_STOCKS)
    for i in range(GENERATED_STOCKS):
        name = NAME_HEADS[i % len(NAME_HEADS)] + NAME_HEADS[(i * 7 + 3) % len(NAME_HEADS)] + NAME_TAILS[i % 20]
        market, code = [
            (1, f"{603000 + i:06d}"),
            (0, f"{2000 + i:06d}"),
            (0, f"{300100 + i:06d}"),
            (116, f"{1000 + i:05d}"),
        ][i % 4]
        stocks.append((market, code, name))
    return stocks


def insert_reference_data(cur, stocks):
    """Categories, sources, tags and stocks (kept if they exist); returns the id lists the post SQL indexes into."""
    source_names = sorted({s for *_rest, s in CATEGORIES if s} | set(EXTRA_SOURCES))
    for name in source_names:
        cur.execute(
            "INSERT INTO articles_source (name, slug) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [name, slugify(" ".join(lazy_pinyin(name)))],
        )
    for position, (slug, name, _weight, _source) in enumerate(CATEGORIES):
        cur.execute(
            "INSERT INTO articles_category (slug, name, description, position) VALUES (%s, %s, '', %s) "
            "ON CONFLICT DO NOTHING",
            [slug, name, position],
        )
    for name in [name for _slug, name, _weight, _source in CATEGORIES] + TOPIC_TAGS:
        cur.execute(
            "INSERT INTO taggit_tag (name, slug) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [name, slugify(name, allow_unicode=True)],
        )
    existing = set(cur.execute("SELECT market, code FROM articles_stock").fetchall())
    with cur.copy("COPY articles_stock (market, code, name) FROM STDIN") as copy:
        for market, code, name in stocks:
            if (market, code) not in existing:
                copy.write_row((market, code, name))

    def ids(sql, keys):
        found = dict(cur.execute(sql).fetchall())
        return [found[key] for key in keys]

    source_ids = dict(cur.execute("SELECT name, id FROM articles_source").fetchall())
    return {
        "category_ids": ids("SELECT lower(slug), id FROM articles_category", [c[0].lower() for c in CATEGORIES]),
        "category_source_ids": [source_ids.get(c[3], 0) for c in CATEGORIES],
        "mixed_source_ids": [source_ids[name] for name in source_names],
        "category_tag_ids": ids("SELECT name, id FROM taggit_tag", [c[1] for c in CATEGORIES]),
        "topic_tag_ids": ids("SELECT name, id FROM taggit_tag", TOPIC_TAGS),
        "stock_ids": ids("SELECT market || '.' || code, id FROM articles_stock", [f"{m}.{c}" for m, c, _n in stocks]),
    }


# Each row's choices come from hashes of its id: repeatable, and the same in every statement.
# h(k) is a non-negative pseudo-random integer for salt k.
POSTS_SQL = """
INSERT INTO articles_post (
    id, title, slug, key, info_code, status, published_at, summary, body, original_url, lead_image,
    created_at, updated_at, imported_at, edited_at, category_id, source_id
)
SELECT
    id, left(format(title_tpl, company, sector, year, a, b, c), 300), lower(key), key,
    CASE WHEN cat = 1 THEN NULL ELSE key END,
    CASE WHEN h1 %% 1000 < 3 THEN 'draft' ELSE 'published' END,
    published_at, format(summary_tpl, company, sector, year, a, b, c),
    '<p>' || format(s1, company, sector, year, a, b, c) || format(s2, company, sector, year, a, b, c)
        || '</p><p>' || format(s3, company, sector, year, a, b, c) || format(s6, company, sector, year, a, b, c)
        || '</p><p>' || format(s4, company, sector, year, a, b, c) || format(s7, company, sector, year, a, b, c)
        || '</p><p>' || format(s5, company, sector, year, a, b, c) || format(s8, company, sector, year, a, b, c)
        || '</p>',
    CASE WHEN cat = 1 THEN 'https://finance.eastmoney.com/a/' || key || '.html' ELSE '' END, '',
    least(published_at, now()), least(published_at, now()), now(), NULL,
    (%(category_ids)s::bigint[])[cat],
    coalesce(nullif((%(category_source_ids)s::bigint[])[cat], 0),
             (%(mixed_source_ids)s::bigint[])[1 + h2 %% cardinality(%(mixed_source_ids)s::bigint[])])
FROM (
    SELECT *,
        CASE WHEN cat = 1 THEN '' ELSE 'NW' END || to_char(published_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
            || lpad(id::text, 10, '0') AS key,
        extract(year FROM published_at)::int AS year
    FROM (
        SELECT id, h1, h2,
            (%(slots)s::int[])[1 + h1 %% 1000] AS cat,
            -- About 1 in 500 posts is scheduled up to three days ahead; the rest spread over three years.
            CASE WHEN h2 %% 500 = 0 THEN date_trunc('second', now() + (h3 %% 259200) * interval '1 second')
                 ELSE date_trunc('second', now() - (h3 %% 94608000) * interval '1 second') END AS published_at,
            (%(stock_names)s::text[])[1 + (h4 %% 1000) * (h4 %% 1000) * cardinality(%(stock_names)s::text[]) / 1000000]
                AS company,
            (%(topics)s::text[])[1 + h5 %% cardinality(%(topics)s::text[])] AS sector,
            (%(titles)s::text[])[1 + h6 %% cardinality(%(titles)s::text[])] AS title_tpl,
            (%(summaries)s::text[])[1 + h7 %% cardinality(%(summaries)s::text[])] AS summary_tpl,
            (%(sentences)s::text[])[1 + h1 %% 10] AS s1, (%(sentences)s::text[])[1 + h2 %% 10] AS s2,
            (%(sentences)s::text[])[1 + h3 %% 10] AS s3, (%(sentences)s::text[])[1 + h4 %% 10] AS s4,
            (%(sentences)s::text[])[1 + h5 %% 10] AS s5, (%(sentences)s::text[])[1 + h6 %% 10] AS s6,
            (%(sentences)s::text[])[1 + h7 %% 10] AS s7, (%(sentences)s::text[])[1 + (h1 / 10) %% 10] AS s8,
            10 + h2 %% 90 AS a, 100 + h3 %% 900 AS b, 1 + h4 %% 9 AS c
        FROM (
            SELECT id,
                hashint8extended(id, 1) & 2147483647 AS h1, hashint8extended(id, 2) & 2147483647 AS h2,
                hashint8extended(id, 3) & 2147483647 AS h3, hashint8extended(id, 4) & 2147483647 AS h4,
                hashint8extended(id, 5) & 2147483647 AS h5, hashint8extended(id, 6) & 2147483647 AS h6,
                hashint8extended(id, 7) & 2147483647 AS h7
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS id
        ) hashes
    ) picks
) rows
"""

# Every post carries its category's tag (as the old site's posts did); half also get a topic tag.
TAGS_SQL = """
INSERT INTO articles_taggedpost (content_object_id, tag_id)
SELECT p.id, t.tag_id
FROM articles_post p
JOIN unnest(%(category_ids)s::bigint[], %(category_tag_ids)s::bigint[]) AS t(category_id, tag_id)
    ON t.category_id = p.category_id
WHERE p.id BETWEEN %(first)s AND %(last)s
UNION ALL
SELECT p.id, (%(topic_tag_ids)s::bigint[])[
    1 + (hashint8extended(p.id, 5) & 2147483647) %% cardinality(%(topic_tag_ids)s::bigint[])]
FROM articles_post p
WHERE p.id BETWEEN %(first)s AND %(last)s AND (hashint8extended(p.id, 8) & 1) = 0
"""

# 40% of posts chart one stock (a tenth of those a second, intraday one). The first stock is
# the one the title names (same hash and skew); the squared hash makes the first stocks of the
# list far more common than the last, as popular stocks are in real news.
CHARTS_SQL = """
WITH charted AS (
    SELECT p.id AS post_id, s.position, s.chart_type,
        (%(stock_ids)s::bigint[])[1 + h.h %% 1000 * (h.h %% 1000) * cardinality(%(stock_ids)s::bigint[]) / 1000000]
            AS stock_id
    FROM articles_post p
    JOIN (VALUES (0, 'k'), (1, 'r')) AS s(position, chart_type)
        ON s.position = 0 OR (hashint8extended(p.id, 9) & 2147483647) %% 10 = 0
    CROSS JOIN LATERAL (SELECT hashint8extended(p.id, 4 + s.position) & 2147483647 AS h) h
    WHERE p.id BETWEEN %(first)s AND %(last)s AND (hashint8extended(p.id, 10) & 2147483647) %% 100 < 40
), charts AS (
    INSERT INTO articles_stockchart (post_id, position, market, code, chart_type, image_url, quote_url)
    SELECT c.post_id, c.position, st.market, st.code, c.chart_type, '', ''
    FROM charted c JOIN articles_stock st ON st.id = c.stock_id
)
INSERT INTO articles_post_stocks (post_id, stock_id)
SELECT DISTINCT post_id, stock_id FROM charted
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="how many posts to add (default 1,000,000)")
    parser.add_argument("--reset", action="store_true", help="empty the content tables first")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("a PostgreSQL DATABASE_URL is required (migrated with `manage.py migrate`)")

    started = time.monotonic()
    stocks = generated_stocks()
    with psycopg.connect(args.database_url, autocommit=True) as conn, conn.cursor() as cur:
        if args.reset:
            cur.execute(
                "TRUNCATE articles_post, articles_category, articles_source, articles_stock, taggit_tag "
                "RESTART IDENTITY CASCADE"
            )
        ids = insert_reference_data(cur, stocks)
        params = {
            **ids,
            "slots": category_slots(CATEGORIES),
            # A post's first chart is the stock its title names: same hash, same list order.
            "stock_names": [name for _m, _c, name in stocks],
            "topics": TOPIC_TAGS,
            "titles": TITLE_TEMPLATES,
            "summaries": SUMMARY_TEMPLATES,
            "sentences": BODY_SENTENCES,
        }
        start = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM articles_post").fetchone()[0]
        end = start + args.count - 1
        for first in range(start, end + 1, BATCH):
            last = min(first + BATCH - 1, end)
            batch = {**params, "first": first, "last": last}
            with conn.transaction():
                cur.execute(POSTS_SQL, batch)
                cur.execute(TAGS_SQL, batch)
                cur.execute(CHARTS_SQL, batch)
            done = last - start + 1
            print(f"{done:>10,} posts  {time.monotonic() - started:6.1f}s", file=sys.stderr, flush=True)
        cur.execute("SELECT setval(pg_get_serial_sequence('articles_post', 'id'), %s)", [end])
        for table in ["articles_post", "articles_taggedpost", "articles_stockchart", "articles_post_stocks"]:
            cur.execute(f"VACUUM ANALYZE {table}")
    print(f"Loaded {args.count:,} posts in {time.monotonic() - started:.0f}s.")


if __name__ == "__main__":
    main()
