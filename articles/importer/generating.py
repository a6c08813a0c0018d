"""Synthetic Jekyll posts in every variant the crawler wrote, for demo data and benchmarks.

Deterministic for a seed. The text is made of real-looking Chinese market-news phrases; categories
follow the old site's skew (东财滚动新闻 holds about a third), and about 1% of files are malformed on
purpose, each in one of the ways real input goes wrong.
"""

import datetime
import random
import re
from dataclasses import dataclass
from pathlib import Path

from pypinyin import lazy_pinyin

from .body import Chart
from .frontmatter import OLD_SITE_ZONE
from .jekyll import back_links, chart_block, format_date, front_matter, share_link, source_line
from .parsing import ParsedPost

PUBLISHERS = [
    "上海证券报·中国证券网", "证券时报", "中国证券报", "21世纪经济报道", "每日经济新闻", "财联社", "界面新闻",
    "澎湃新闻", "第一财经", "经济观察报", "券商中国", "中国基金报", "新华社", "央视财经", "北京日报", "TechWeb",
    "安信国际证券(香港)", "证券日报", "金融界", "同花顺财经", "格隆汇", "智通财经", "华尔街见闻", "新浪财经",
    "东方财富研究中心", "中新经纬", "红星新闻", "上游新闻", "e公司", "银柿财经",
]  # fmt: skip
SECTIONS = [
    ("gongsigonggao", "公司公告"), ("ganggu", "港股"), ("meigu", "美股"), ("qihuo", "期货"), ("waihui", "外汇"),
    ("jijin", "基金"), ("zhaiquan", "债券"), ("hongguan", "宏观经济"), ("chanye", "产业观察"), ("IPO", "新股IPO"),
    ("kechuangban", "科创板"), ("yanbao", "研报精选"), ("zijinliuxiang", "资金流向"), ("shangpin", "大宗商品"),
    ("huangjin", "黄金"), ("fangchan", "房地产"), ("xinnengyuan", "新能源"), ("bandaoti", "半导体"),
    ("Techweb", "Techweb新闻"),
]  # fmt: skip
STOCKS = [
    (1, "600519", "贵州茅台"), (0, "000001", "平安银行"), (0, "300750", "宁德时代"), (1, "601318", "中国平安"),
    (0, "002594", "比亚迪"), (1, "600036", "招商银行"), (0, "000858", "五粮液"), (1, "601012", "隆基绿能"),
    (1, "600030", "中信证券"), (0, "000776", "广发证券"), (0, "002752", "昇兴股份"), (1, "600160", "巨化股份"),
    (116, "00700", "腾讯控股"), (116, "09988", "阿里巴巴-SW"), (116, "00020", "商汤-W"), (116, "02015", "理想汽车-W"),
    (116, "03690", "美团-W"), (105, "AAPL", "苹果"), (105, "TSLA", "特斯拉"), (106, "NIO", "蔚来"),
    (105, "NVDA", "英伟达"), (107, "SPY", "标普500ETF"), (1, "000001", "上证指数"), (0, "399001", "深证成指"),
]  # fmt: skip
BOARDS = [(90, "BK0473", "券商概念"), (90, "BK0475", "银行"), (90, "BK0474", "保险"), (90, "BK0493", "新能源")]
SUBJECTS = ["公司", "北向资金", "两市成交额", "沪指", "创业板指", "恒生科技指数", "人民币汇率", "国债收益率", "机构",
            "券商板块", "光伏板块", "白酒股", "半导体板块", "新能源车企", "央行", "证监会", "外资"]  # fmt: skip
VERBS = ["预计", "公告称", "表示", "数据显示", "宣布", "披露", "透露", "发布报告称", "分析指出"]
FACTS = [
    "全年净利润同比增长{pct}%", "营业收入达到{num}亿元", "净买入{num}亿元", "成交额突破{num}亿元",
    "收涨{pct}%", "盘中跌逾{pct}%", "拟回购不超过{num}亿元股份", "订单同比大幅增长", "将加快推进产能建设",
    "目标价上调至{num}元", "维持“买入”评级", "市场需求持续回暖", "毛利率提升{pct}个百分点",
]  # fmt: skip
CLOSINGS = ["业内人士认为，行业景气度有望延续。", "分析人士称，短期波动不改长期趋势。", "后续进展值得关注。",
            "市场情绪明显回暖。", "相关政策效果将逐步显现。"]  # fmt: skip
EMNEWS = ("emnews", "东财滚动新闻")
ORIGINAL_HOSTS = ["finance", "stock", "hk", "mss", "forex", "futures"]
BACK_LINK_HOSTS = ["", "//finews.zning.me", "//finews.withounder.com"]
MALFORMED = ["no front matter", "unterminated", "empty", "bad date", "not utf-8", "title too long"]


@dataclass
class Section:
    """A category of generated posts: its slug and name, its publisher (None: any), its share of posts."""

    slug: str
    name: str
    source: str | None
    weight: float


def make_sections():
    """About 50 sections: 东财滚动新闻, one per publisher (slugs spelled as the old site did), and topics."""
    found = [Section(*EMNEWS, None, 0.0)]
    for name in PUBLISHERS:
        slug = "".join(lazy_pinyin(name))
        found.append(Section(slug, f"{name}新闻", name, 0.0))
    found.append(Section("21shijijingjibaodao 21caijingAPP", "21世纪经济报道 21财经APP新闻", "21世纪经济报道", 0.0))
    found += [Section(slug, name, None, 0.0) for slug, name in SECTIONS]
    # A Zipf-like tail, with 东财滚动新闻 holding a third of all posts.
    tail = [1 / rank for rank in range(1, len(found))]
    for category, weight in zip(found[1:], tail, strict=True):
        category.weight = weight / sum(tail) * 2 / 3
    found[0].weight = 1 / 3
    return found


def generate_posts(directory, *, count, seed=0):
    """Write `count` posts under `directory` (`_posts/` and `old_post/`); return how many are malformed."""
    rng = random.Random(seed)
    root = Path(directory)
    for folder in ("_posts", "old_post"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    sections = make_sections()
    weights = [category.weight for category in sections]
    start = datetime.datetime(2021, 12, 1, 8, tzinfo=OLD_SITE_ZONE)
    malformed = 0
    previous = None
    for n in range(count):
        key = f"{start + datetime.timedelta(seconds=n * 157):%Y%m%d}{n:010d}"
        if previous and rng.random() < 0.01:
            # The crawler sometimes stored one story twice, under two codes: same title, same time.
            old_key, text, published_at = previous
            key = old_key[: len(old_key) - len(key)] + key
            text = text.replace(old_key, key)
        else:
            published_at = start + datetime.timedelta(seconds=n * 157 + rng.randrange(120))
            key, text = _story(rng, rng.choices(sections, weights)[0], published_at, key)
        previous = key, text, published_at
        if rng.random() < 0.01:
            data = _malformed(rng, text)
            malformed += 1
        else:
            data = _quirks(rng, text)
        folder = "old_post" if rng.random() < 0.1 else "_posts"
        # A crawler run with an empty time wrote names without the date.
        date = "" if rng.random() < 0.005 else f"{published_at:%Y-%m-%d}"
        with open(root / folder / f"{date}-{key}.md", "wb") as file:
            file.write(data)
    return malformed


def _sentence(rng):
    fact = rng.choice(FACTS).format(pct=round(rng.uniform(0.1, 60), 2), num=round(rng.uniform(1, 900), 1))
    return f"{rng.choice(SUBJECTS)}{rng.choice(VERBS)}，{fact}。"


def _mention(rng):
    market, code, name = rng.choice(STOCKS + BOARDS)
    kind = "bk" if market == 90 else "stock"
    return (
        f'<span id="{kind}_{market}.{code}"><a href="http://quote.eastmoney.com/unify/r/{market}.{code}" '
        f'class="keytip" data-code="{market},{code}">{name}</a></span><span id="quote_{market}.{code}"></span>'
    )


def _story(rng, category, published_at, number):
    """`(key, text)` of one post in the crawler's style for its category."""
    emnews = category.slug == EMNEWS[0]
    info_code = None if emnews else rng.choice(["NW", "NW", "NW", "AN"]) + number
    sentences = [_sentence(rng) for _ in range(rng.randint(2, 10))]
    post = ParsedPost(
        key=info_code or number,
        title=sentences[0].rstrip("。").replace("，", " "),
        published_at=published_at,
        category_slug=category.slug,
        category_name=category.name,
        info_code=info_code,
        source=category.source or rng.choice(PUBLISHERS),
        tags=[category.name],
        original_url="" if info_code else f"http://{rng.choice(ORIGINAL_HOSTS)}.eastmoney.com/news/1354,{number}.html",
    )
    charted = rng.random() < 0.4
    # 2021-style rolling news (one paragraph, no charts) is half of 东财滚动新闻 among uncharted posts.
    if emnews and not charted and rng.random() < 0.5:
        return post.key, _old_emnews(rng, post, sentences)
    if charted:
        post.charts = [
            Chart(market, code, "r" if rng.random() < 0.2 else "k")
            for market, code, _ in rng.sample(STOCKS, rng.randint(1, 3))
        ]
    paragraphs = [
        f"<p>{sentence}{_mention(rng) if rng.random() < 0.3 else ''}{rng.choice(CLOSINGS)}</p>"
        for sentence in sentences
    ]
    if rng.random() < 0.15:
        paragraphs.insert(
            len(paragraphs) // 2,
            f'<center><img src="https://dfscdn.dfcfw.com/download/D{number}_w800h555.jpg" alt="Image" width="552" '
            'height="383" /></center><p style="text-align:center;">图片来源：东方财富网</p>',
        )
    body = "".join(chart_block(chart) for chart in post.charts) + "".join(paragraphs) + source_line(post.source)
    digest = f"> {sentences[0]}（{post.source}）\n\n" if emnews else ""
    if info_code:
        early = info_code.startswith("AN")
        links = share_link(info_code, "http://choicewzp1.eastmoney.com" if early else "http://finews.zning.xyz")
    else:
        links = f"<{post.original_url}>"
    ending = back_links(post.category_slug, post.category_name, "//finews.withounder.com")
    return post.key, f"{_front_matter(rng, post)}{digest}{body}\n\n{links}\n\n{ending}\n"


def _front_matter(rng, post):
    """Front matter with the crawler's gaps now and then: inner quotes unescaped, an empty title or date."""
    roll = rng.random()
    if roll < 0.03:
        post.title = f'分析师称"{post.title[:8]}"{post.title[8:]}'
        return front_matter(post, title=f'"{post.title}"')
    if roll < 0.035:
        return front_matter(post, title='""')
    if roll < 0.04:
        return front_matter(post, date=" +0800")
    return front_matter(post)


def _old_emnews(rng, post, sentences):
    """A 2021 东财滚动新闻 post: one paragraph, maybe the source in brackets, the original link, back-links."""
    bracket = f"（{post.source}）" if rng.random() < 0.6 else ""
    link = f"<{post.original_url}>" if rng.random() > 0.01 else "<>"
    host = rng.choice(BACK_LINK_HOSTS)
    home, section = (f"{host}/", f"{host}/emnews/") if host else ("../", "../emnews/")
    ending = rng.choice(
        ["", f"[返回东财滚动新闻]({section})\n[返回首页]({home})", f"[返回东财滚动新闻]({section})｜[返回首页]({home})"]
    )
    date = format_date(post.published_at) if rng.random() < 0.5 else f"{post.published_at:%Y-%m-%d %H:%M:%S}"
    return f"{front_matter(post, date=date)}\n{''.join(sentences)}{bracket}\n\n{link}\n\n{ending}"


def _quirks(rng, text):
    """The file-level oddities of real posts: a blank line first, no final newline, BOM, CRLF."""
    if rng.random() < 0.01:
        text = "\n" + text
    if rng.random() < 0.7:
        text = text.rstrip("\n")
    if rng.random() < 0.01:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if rng.random() < 0.01 else data


def _malformed(rng, text):
    """`text` broken in one of the ways real input breaks."""
    kind = rng.choice(MALFORMED)
    front_end = text.index("\n---\n", 4)
    if kind == "no front matter":
        return text[front_end + 5 :].encode("utf-8")
    if kind == "unterminated":
        return (text[:front_end] + "\n" + text[front_end + 5 :]).encode("utf-8")
    if kind == "empty":
        return b""
    if kind == "bad date":
        return re.sub(r"(?m)^date:.*$", "date: 2022-13-45 25:61", text, count=1).encode("utf-8")
    if kind == "not utf-8":
        return text.encode("gb18030")
    return re.sub(r"(?m)^title:.*$", f'title: "{"长" * 400}"', text, count=1).encode("utf-8")
