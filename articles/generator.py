"""Synthetic Chinese market news: the one generator behind `generate_posts`, the benchmarks and tests.

Deterministic for a seed, and post `n` depends on the seed and `n` alone, so any range of posts can be
made by itself (a benchmark database topped up). The stories follow the old site: a third are
东财滚动新闻, the rest come from some 30 publishers and 20 topic sections with a Zipf-like skew; several
paragraphs of market news name companies with their codes and link stocks inline as the crawler did;
about 40% of posts carry stock charts; a few are drafts or scheduled. The same story is now and then
stored twice under two codes, as the crawler did.

Two outputs:
- `parsed_posts()`: ParsedPosts as an import of the files would store them, for the benchmark loader,
  which hands them to the importer's write path without writing or parsing files;
- `write_post_files()`: Jekyll files in every variant the crawler wrote, with its quirks, and about 1%
  malformed on purpose (`manage.py generate_posts`, the import benchmark).

The search benchmark picks its queries from the lists below: COMMON_TERMS (each in over 30% of posts),
RARE_TERMS (each in fewer than 100 posts per million), MIXED_TERMS (Chinese with ASCII), and STOCKS
(codes and names; the first ones are mentioned most).
"""

import datetime
import functools
import itertools
import random
import re
import string
from dataclasses import dataclass, replace
from pathlib import Path

from articles.importer.body import Chart
from articles.importer.frontmatter import OLD_SITE_ZONE
from articles.importer.jekyll import back_links, chart_block, format_date, front_matter, share_link, source_line
from articles.importer.parsing import ParsedPost
from articles.models import Post

# (name, category slug as the old site spelled it: the name's pinyin)
PUBLISHERS = [
    ("上海证券报·中国证券网", "shanghaizhengquanbao·zhongguozhengquanwang"), ("证券时报", "zhengquanshibao"),
    ("中国证券报", "zhongguozhengquanbao"), ("21世纪经济报道", "21shijijingjibaodao"),
    ("每日经济新闻", "meirijingjixinwen"), ("财联社", "cailianshe"), ("界面新闻", "jiemianxinwen"),
    ("澎湃新闻", "pengpaixinwen"), ("第一财经", "diyicaijing"), ("经济观察报", "jingjiguanchabao"),
    ("券商中国", "quanshangzhongguo"), ("中国基金报", "zhongguojijinbao"), ("新华社", "xinhuashe"),
    ("央视财经", "yangshicaijing"), ("北京日报", "beijingribao"), ("TechWeb", "TechWeb"),
    ("安信国际证券(香港)", "anxinguojizhengquan(xianggang)"), ("证券日报", "zhengquanribao"),
    ("金融界", "jinrongjie"), ("同花顺财经", "tonghuashuncaijing"), ("格隆汇", "gelonghui"),
    ("智通财经", "zhitongcaijing"), ("华尔街见闻", "huaerjiejianwen"), ("新浪财经", "xinlangcaijing"),
    ("东方财富研究中心", "dongfangcaifuyanjiuzhongxin"), ("中新经纬", "zhongxinjingwei"),
    ("红星新闻", "hongxingxinwen"), ("上游新闻", "shangyouxinwen"), ("e公司", "egongsi"),
    ("银柿财经", "yinshicaijing"),
]  # fmt: skip
# Topic sections; `Techweb` beside the publisher's `TechWeb` is the old site's case clash, one category.
SECTIONS = [
    ("gongsigonggao", "公司公告"), ("ganggu", "港股"), ("meigu", "美股"), ("qihuo", "期货"), ("waihui", "外汇"),
    ("jijin", "基金"), ("zhaiquan", "债券"), ("hongguan", "宏观经济"), ("chanye", "产业观察"), ("IPO", "新股IPO"),
    ("kechuangban", "科创板"), ("yanbao", "研报精选"), ("zijinliuxiang", "资金流向"), ("shangpin", "大宗商品"),
    ("huangjin", "黄金"), ("fangchan", "房地产"), ("xinnengyuan", "新能源"), ("bandaoti", "半导体"),
    ("Techweb", "Techweb新闻"),
]  # fmt: skip
EMNEWS = ("emnews", "东财滚动新闻")

# (EastMoney market id, code, name), the most mentioned first; made-up listings follow (GENERATED_STOCKS).
KNOWN_STOCKS = [
    (1, "600519", "贵州茅台"), (0, "300750", "宁德时代"), (116, "00700", "腾讯控股"), (1, "601318", "中国平安"),
    (0, "002594", "比亚迪"), (1, "600036", "招商银行"), (116, "00020", "商汤-W"), (0, "000858", "五粮液"),
    (116, "09988", "阿里巴巴-W"), (1, "601012", "隆基绿能"), (1, "600030", "中信证券"), (0, "000001", "平安银行"),
    (105, "TSLA", "特斯拉"), (105, "AAPL", "苹果"), (105, "NVDA", "英伟达"), (116, "03690", "美团-W"),
    (116, "01810", "小米集团-W"), (1, "688981", "中芯国际"), (0, "300059", "东方财富"), (0, "000333", "美的集团"),
    (1, "600900", "长江电力"), (1, "601398", "工商银行"), (1, "600276", "恒瑞医药"), (0, "002415", "海康威视"),
    (1, "601899", "紫金矿业"), (0, "300760", "迈瑞医疗"), (0, "002475", "立讯精密"), (1, "603259", "药明康德"),
    (116, "00941", "中国移动"), (116, "02015", "理想汽车-W"), (106, "NIO", "蔚来"), (106, "BABA", "阿里巴巴"),
    (105, "PDD", "拼多多"), (0, "002752", "昇兴股份"), (1, "600160", "巨化股份"), (0, "000776", "广发证券"),
    (1, "688111", "金山办公"), (116, "01299", "友邦保险"), (116, "00388", "香港交易所"), (0, "000651", "格力电器"),
]  # fmt: skip
NAME_HEADS = "华中国长东南西北新金宏泰恒瑞海天安信达广盛嘉凯鼎兴利通博明诚永康德润汇鑫航远"
NAME_TAILS = [
    "科技", "股份", "医药", "能源", "电子", "控股", "智能", "新材", "环保", "传媒", "证券", "银行", "地产", "汽车",
    "化工", "食品", "电力", "重工", "生物", "软件",
]  # fmt: skip
GENERATED_STOCKS = 600


def _generated_stocks():
    """Plausible Shanghai, Shenzhen, ChiNext and Hong Kong listings with made-up names."""
    stocks = []
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


STOCKS = KNOWN_STOCKS + _generated_stocks()
BOARDS = [(90, "BK0473", "券商概念"), (90, "BK0475", "银行"), (90, "BK0474", "保险"), (90, "BK0493", "新能源")]

SECTORS = [
    "新能源", "半导体", "医药", "银行", "券商", "白酒", "光伏", "锂电池", "汽车", "芯片", "人工智能", "消费电子",
    "军工", "传媒", "游戏", "房地产", "保险", "煤炭", "有色金属", "化工", "电力", "储能", "算力", "数字经济",
    "机器人", "创新药", "家电", "食品饮料", "航运", "黄金",
]  # fmt: skip
INDICES = ["沪指", "深证成指", "创业板指", "科创50", "上证50", "沪深300"]
INSTITUTIONS = [
    "中信证券", "中金公司", "华泰证券", "国泰君安", "招商证券", "海通证券", "兴业证券", "东吴证券", "天风证券",
    "申万宏源", "高盛", "摩根士丹利", "瑞银", "花旗",
]  # fmt: skip
CITIES = ["上海", "深圳", "北京", "杭州", "广州", "成都", "武汉", "合肥", "苏州", "南京", "重庆", "西安"]

TITLES = [
    "{name}：{year}年净利润同比预增{pct}%", "{name}：拟回购不超过{num}亿元公司股份",
    "{sector}板块午后拉升 {name}涨超{small}%", "{name}发布{year}年年报 营收同比增长{pct}%",
    "{sector}概念股走强，{name}等多股涨停", "{name}：控股股东拟减持不超过{small}%股份",
    "机构调研{name}：{sector}业务订单饱满 产能持续释放", "北向资金今日净买入{num}亿元 重点加仓{sector}板块",
    "{name}获{count}家机构调研 聚焦{sector}布局", "央行开展{big}亿元逆回购操作 {sector}板块走势分化",
    "{name}与多方签署战略合作协议 加码{sector}赛道", "{sector}行业迎政策利好 {name}有望受益",
    "{name}：子公司中标{num}亿元项目", "{index}震荡收涨{small}% {sector}板块领涨两市",
    "{name}股价异动 公司回应：经营情况正常", "央行宣布降准0.25个百分点 释放长期资金约{big}亿元",
    "{inst}：维持{name}“买入”评级 目标价{price}元", "{name}{period}营收{num}亿元 同比增长{pct}%",
    "{sector}ETF单日净流入{num}亿元 资金抢筹龙头", "港股收评：恒指涨{small}% {name}领涨",
    "{name}：{sector}新品发布 5G与AI应用加速落地", "A股三大指数集体收涨 {sector}板块掀涨停潮",
]  # fmt: skip
# Sentences by theme; `{name}` is the story's company, `{peer}` another, `{code}` the company's code.
COMPANY = [
    "{name}（{code}）晚间发布公告称，公司{period}实现营业收入{num}亿元，同比增长{pct}%。",
    "{name}表示，报告期内公司{sector}业务保持稳健增长，核心产品市场占有率进一步提升。",
    "公司相关负责人介绍，今年以来已累计投入研发资金{num}亿元，同比增长{pct}%，新产品陆续进入量产阶段。",
    "{name}同时公告，拟以自有资金回购公司股份，回购总金额不低于{num}亿元，回购价格不超过{price}元/股。",
    "公告显示，{name}控股股东计划在未来六个月内通过集中竞价方式减持不超过{small}%的公司股份。",
    "{name}在投资者互动平台上表示，公司{sector}相关产品已实现批量供货，客户涵盖多家行业龙头企业。",
    "值得注意的是，公司此前披露的定增方案已获监管部门受理，募集资金将主要用于{sector}项目建设。",
    "对于后续发展，{name}表示将围绕{sector}主线，持续优化产品结构，提升经营效率，积极回报投资者。",
    "公司同时提示，上述预测数据仅为初步测算结果，具体财务数据以正式披露的{year}年年度报告为准。",
    "{name}董事长在业绩说明会上透露，公司在{city}新建的生产基地预计将于{year}年底投产。",
    "据{name}披露，公司近期接待了{count}家机构调研，机构普遍关注{sector}业务的订单与毛利率变化。",
    "{name}与{peer}签署战略合作协议，双方将在{sector}领域开展深度合作，共同开拓海外市场。",
    "公司全资子公司近日中标{city}地区{sector}项目，中标金额约{num}亿元，占公司上一年度营业收入的{small}%。",
    "{name}（{code}）公告，公司拟向全体股东每10股派发现金红利{small}元（含税），分红总额约{num}亿元。",
]  # fmt: skip
MARKET = [
    "今日A股三大指数集体{move}，截至收盘，{index}报{points}点，{move}{small}%。",
    "两市成交额达到{big}亿元，较前一交易日{change}{num}亿元，北向资金全天净买入{num2}亿元。",
    "盘面上，{sector}板块表现活跃，{name}盘中一度涨停，{peer}等个股跟涨。",
    "二级市场上，截至收盘，{name}股价报{price}元，全天成交额约{num}亿元，换手率{small}%。",
    "港股方面，恒生指数收涨{small}%，恒生科技指数涨{small2}%，{name}涨超{small3}%。",
    "记者注意到，{name}近三个月累计获北向资金增持约{big}万股，外资持股比例升至{small}%。",
    "从资金流向看，主力资金今日净流入{sector}板块{num}亿元，{name}获主力净买入居前。",
    "市场人士认为，当前A股估值处于历史较低区间，中长期配置价值凸显。",
    "{board}板块今日走强，板块内{count}只个股上涨，{peer}涨幅居前。",
    "截至午间收盘，{index}{move}{small}%，两市超过{big}只个股上涨，赚钱效应有所回升。",
    "融资融券数据显示，两融余额连续{count}个交易日增加，最新报{big}亿元。",
    "人民币兑美元汇率中间价报{rmb}，较上一交易日调升{count}个基点。",
    "期货市场方面，沪金主力合约收涨{small}%，国际油价盘中一度跌逾{small2}%。",
    "尾盘资金加速流入，{name}放量拉升，收盘涨幅扩大至{small}%，创近{count}个交易日新高。",
]  # fmt: skip
INDUSTRY = [
    "从行业层面看，{sector}领域的政策支持力度不断加大，下游需求逐步回暖，行业集中度持续提高。",
    "业内人士分析称，{year}年{sector}行业竞争格局趋于稳定，具备技术与成本优势的企业将获得更大市场份额。",
    "数据显示，{period}国内{sector}市场规模达到{big}亿元，同比增长{pct}%。",
    "随着5G网络建设提速和AI应用不断落地，{sector}产业链上下游企业有望持续受益。",
    "{city}近日出台支持{sector}产业发展的若干措施，提出到{year}年产业规模突破{big}亿元。",
    "芯片等关键零部件供应趋于稳定，{sector}企业的交付能力明显改善，订单排期已至明年。",
    "海外市场方面，{sector}产品出口保持较快增长，{period}出口额同比增长{pct}%。",
    "中国汽车工业协会数据显示，{month}月新能源汽车产销分别完成{num}万辆和{num2}万辆，同比增长{pct}%。",
    "原材料价格高位回落，{sector}企业成本压力有所缓解，行业毛利率有望逐季修复。",
    "工信部表示，将加快推进{sector}领域关键核心技术攻关，培育一批具有国际竞争力的领军企业。",
    "据不完全统计，今年以来{sector}领域已发生融资事件{count}起，披露融资总额超过{big}亿元。",
    "智能制造与工业互联网的融合不断深入，{city}已建成{count}家省级以上智能工厂。",
]  # fmt: skip
ANALYSTS = [
    "多家券商研报指出，{name}估值处于历史较低区间，随着{sector}业务放量，业绩有望迎来拐点。",
    "{inst}发布研报称，维持{name}“买入”评级，预计公司{year}年每股收益为{eps}元。",
    "{inst}首席经济学家表示，稳增长政策持续发力，市场风险偏好有望逐步修复。",
    "{inst}认为，{sector}板块短期波动不改长期趋势，建议关注具备核心竞争力的龙头公司。",
    "{inst}策略团队表示，外资对A股的配置意愿有所回升，消费与科技仍是增配的主要方向。",
    "{inst}分析师指出，{name}{period}业绩略超市场预期，上调公司未来两年盈利预测{small}%。",
    "也有机构提示风险，认为{sector}行业短期产能扩张较快，需警惕价格战对盈利能力的影响。",
    "{inst}表示，随着稳增长政策落地见效，{year}年下半年国内经济有望延续修复态势。",
]  # fmt: skip
POLICY = [
    "中国人民银行宣布，决定于{month}月{day}日下调金融机构存款准备金率0.25个百分点，此次降准预计释放长期资金约{big}亿元。",
    "央行今日开展{big}亿元7天期逆回购操作，中标利率持平于{rate}%。",
    "证监会表示，将坚持市场化法治化方向，进一步提高上市公司质量，切实保护投资者合法权益。",
    "国家统计局数据显示，{month}月份全国居民消费价格指数（CPI）同比上涨{cpi}%，制造业采购经理指数（PMI）为{pmi}%。",
    "{month}月贷款市场报价利率（LPR）保持不变，1年期LPR为{lpr}%，5年期以上LPR为{lpr5}%。",
    "国务院常务会议指出，要加大宏观政策调节力度，稳住经济大盘，保持经济运行在合理区间。",
    "财政部数据显示，{period}全国一般公共预算收入{big}亿元，同比增长{pct}%。",
    "沪深交易所发布通知，进一步优化融资融券业务安排，降低投资者交易成本。",
]  # fmt: skip
FUNDS = [
    "基金方面，跟踪{sector}指数的ETF近五个交易日累计净流入{num}亿元，份额创上市以来新高。",
    "公募基金{period}持仓数据显示，{name}获{count}只基金重仓，持股总市值约{num}亿元。",
    "今年以来新成立的权益类基金超过{count}只，合计募集规模约{big}亿元，其中ETF占比明显提升。",
    "私募排排网数据显示，{month}月百亿级私募平均收益率为{small}%，股票仓位指数升至{count}%。",
    "多只{sector}主题基金近期发布限购公告，单日申购金额上限为{count}万元。",
    "业内人士表示，指数化投资正成为居民财富配置的重要方式，宽基ETF规模持续扩大。",
]  # fmt: skip
CLOSINGS = [
    "业内人士认为，行业景气度有望延续。", "分析人士称，短期波动不改长期趋势。", "后续进展值得关注。",
    "市场情绪明显回暖。", "相关政策效果将逐步显现。", "风险提示：本文内容仅供参考，不构成投资建议。",
]  # fmt: skip

# Search benchmark terms. Each of COMMON_TERMS is in over 30% of posts (the company sentences); each of
# RARE_TERMS in one post of every RARE_EVERY × len(RARE_TERMS) (about 55 per million), and nowhere else:
# each holds a character no other text here uses.
COMMON_TERMS = ["公司", "市场"]
RARE_TERMS = ["锑矿", "氦气", "锆石", "钽电容", "铌酸锂", "碲化镉"]
RARE_EVERY = 3001
RARE_SENTENCE = "{name}表示，公司在{rare}领域已有技术储备，相关产品目前处于客户验证阶段。"
MIXED_TERMS = ["A股", "ETF", "5G", "AI", "CPI"]

# Post n is published STEP seconds after post n − 1, from START on (a million posts reach September 2025).
START = datetime.datetime(2021, 12, 1, 8, tzinfo=OLD_SITE_ZONE)
STEP = 120
# Scheduled posts wait for a day far enough ahead to be scheduled whenever the data is used.
SCHEDULED = datetime.datetime(2099, 1, 1, 9, tzinfo=OLD_SITE_ZONE)
DRAFT_RATE = SCHEDULED_RATE = 0.002
TWIN_RATE = 0.01
CHARTED_RATE = 0.4
ORIGINAL_HOSTS = ["finance", "stock", "hk", "mss", "forex", "futures"]
BACK_LINK_HOSTS = ["", "//finews.zning.me", "//finews.withounder.com"]
MALFORMED = ["no front matter", "unterminated", "empty", "bad date", "not utf-8", "title too long"]


@dataclass(frozen=True)
class Section:
    """A category of generated posts: its slug and name, and its publisher (None: any)."""

    slug: str
    name: str
    source: str | None


def _sections():
    """About 50 sections with their weights: 东财滚动新闻 a third of all posts, the rest a Zipf-like tail."""
    sections = [Section(*EMNEWS, None)]
    sections += [Section(slug, f"{name}新闻", name) for name, slug in PUBLISHERS]
    sections.append(Section("21shijijingjibaodao 21caijingAPP", "21世纪经济报道 21财经APP新闻", "21世纪经济报道"))
    sections += [Section(slug, name, None) for slug, name in SECTIONS]
    tail = [1 / rank for rank in range(1, len(sections))]
    weights = [sum(tail) / 2, *tail]  # the first a third, the tail two thirds
    return sections, list(itertools.accumulate(weights))


SECTION_LIST, SECTION_WEIGHTS = _sections()


@dataclass
class Story:
    """One generated post: the ParsedPost an import stores, and how the crawler's file showed it."""

    number: str
    post: ParsedPost
    links: str
    ending: str
    # The front matter's date as written, when not the usual `format_date`.
    date: str | None = None
    # The 2021 东财滚动新闻 style: the body one paragraph of plain text, no charts, digest or source line.
    plain: bool = False

    def text(self, **front):
        """The Jekyll file as the crawler wrote it, which parse_post reads back to `post`; `front` overrides
        the title or date as written (jekyll.front_matter)."""
        post = self.post
        content = _crawler_html(post.body)
        if self.plain:
            content = content.removeprefix("<p>").removesuffix("</p>")
            return f"{front_matter(post, date=self.date)}\n{content}\n\n{self.links}\n\n{self.ending}"
        digest = f"> {post.summary}\n\n" if post.summary else ""
        charts = "".join(chart_block(chart) for chart in post.charts)
        body = f"{charts}{content}{source_line(post.source)}"
        return f"{front_matter(post, **front)}{digest}{body}\n\n{self.links}\n\n{self.ending}\n"


# The generator writes bodies as the importer stores them, sanitised (articles.html), which spares the
# benchmark loader the sanitiser; the crawler's files had these few differences.
STORED_TO_CRAWLED = [
    (' rel="noopener noreferrer"', ""),
    ('"383"></center><p>', '"383" /></center><p style="text-align:center;">'),
]


def _crawler_html(body):
    """A generated post's stored body as the crawler's file had it."""
    for stored, crawled in STORED_TO_CRAWLED:
        body = body.replace(stored, crawled)
    return body


def stories(count, *, seed=0, start=0):
    """Stories `start` to `start + count - 1` of the series `seed`."""
    return (story(n, seed=seed) for n in range(start, start + count))


def parsed_posts(count, *, seed=0, start=0):
    """Posts `start` to `start + count - 1` of the series `seed`, as ParsedPosts ready to write."""
    return (story(n, seed=seed).post.build_derived() for n in range(start, start + count))


def story(n, *, seed=0):
    """Story `n` of the series `seed`."""
    rng = random.Random(seed * 10**12 + n)
    if n and rng.random() < TWIN_RATE:
        return _twin(story(n - 1, seed=seed), n)
    slot = START + datetime.timedelta(seconds=n * STEP)
    number = f"{slot:%Y%m%d}{n:010d}"
    published_at = slot + datetime.timedelta(seconds=int(rng.random() * 120))
    status = Post.Status.PUBLISHED
    roll = rng.random()
    if roll < DRAFT_RATE:
        status = Post.Status.DRAFT
    elif roll < DRAFT_RATE + SCHEDULED_RATE:
        published_at = SCHEDULED + datetime.timedelta(seconds=n)
    section = rng.choices(SECTION_LIST, cum_weights=SECTION_WEIGHTS)[0]
    emnews = section.slug == EMNEWS[0]
    charted = rng.random() < CHARTED_RATE
    # The 2021 style is half of the uncharted 东财滚动新闻.
    plain = emnews and not charted and rng.random() < 0.5
    info_code = None if emnews else _pick(rng, ["NW", "NW", "NW", "AN"]) + number
    source = section.source or _pick(rng, PUBLISHERS)[0]
    writer = _Writer(rng, n, html=not plain)
    post = ParsedPost(
        key=info_code or number,
        title=writer.title(),
        published_at=published_at,
        category_slug=section.slug,
        category_name=section.name,
        info_code=info_code,
        status=status,
        source=source,
        tags=list(dict.fromkeys([section.name, writer.sector] if rng.random() < 0.5 else [section.name])),
        original_url="" if info_code else f"http://{_pick(rng, ORIGINAL_HOSTS)}.eastmoney.com/news/1354,{number}.html",
    )
    if plain:
        return _plain_story(rng, writer, post, number)
    if charted:
        post.charts = [_chart(rng, *stock[:2]) for stock in writer.charted(rng.randint(1, 3))]
    paragraphs = writer.paragraphs()
    if rng.random() < 0.15:
        paragraphs.insert(
            len(paragraphs) // 2,
            f'<center><img src="https://dfscdn.dfcfw.com/download/D{number}_w800h555.jpg" alt="Image" width="552" '
            'height="383"></center><p>图片来源：东方财富网</p>',
        )
    post.body = "".join(paragraphs)
    post.mentions = list(writer.linked)
    if emnews:
        post.summary = f"{writer.lede}（{source}）"
        links = f"<{post.original_url}>"
    else:
        early = info_code.startswith("AN")
        links = share_link(info_code, "http://choicewzp1.eastmoney.com" if early else "http://finews.zning.xyz")
    ending = back_links(section.slug, section.name, "//finews.withounder.com")
    return Story(number, post, links, ending)


def _plain_story(rng, writer, post, number):
    """A 2021 东财滚动新闻 post: one paragraph, maybe the source in brackets, the original link, back-links."""
    text = "".join(writer.sentences(rng.randint(5, 12)))
    # The importer finds a bracketed source only without brackets inside it.
    if rng.random() < 0.6 and "(" not in post.source:
        text += f"（{post.source}）"
    else:
        post.source = None
    post.body = f"<p>{text}</p>"
    links = f"<{post.original_url}>"
    if rng.random() < 0.01:
        links, post.original_url = "<>", ""
    host = _pick(rng, BACK_LINK_HOSTS)
    home, section = (f"{host}/", f"{host}/emnews/") if host else ("../", "../emnews/")
    ending = _pick(
        rng,
        [
            "",
            f"[返回东财滚动新闻]({section})\n[返回首页]({home})",
            f"[返回东财滚动新闻]({section})｜[返回首页]({home})",
        ],
    )
    date = format_date(post.published_at) if rng.random() < 0.5 else f"{post.published_at:%Y-%m-%d %H:%M:%S}"
    return Story(number, post, links, ending, date=date, plain=True)


def _twin(original, n):
    """The crawler sometimes stored one story twice, under two codes: same title, same time."""
    slot = START + datetime.timedelta(seconds=n * STEP)
    number = f"{slot:%Y%m%d}{n:010d}"
    old, post = original.number, original.post
    info_code = post.info_code.replace(old, number) if post.info_code else None
    twin = replace(
        post,
        key=info_code or number,
        info_code=info_code,
        body=post.body.replace(old, number),
        original_url=post.original_url.replace(old, number),
        tags=list(post.tags),
        charts=list(post.charts),
        mentions=list(post.mentions),
        warnings=[],
    )
    return replace(original, number=number, post=twin, links=original.links.replace(old, number))


def _chart(rng, market, code):
    chart_type = "r" if rng.random() < 0.2 else "k"
    token = f"{rng.getrandbits(128):032x}"
    return Chart(
        market,
        code,
        chart_type,
        f"https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={market}.{code}&imageType={chart_type}&token={token}",
        f"http://quote.eastmoney.com/unify/r/{market}.{code}",
    )


def _pick(rng, items):
    # random.choice, without its per-call overhead: a million posts make some fifty million picks.
    return items[int(rng.random() * len(items))]


def _skewed(rng, items):
    """An item of `items`, the first ones far more often than the last (as popular stocks are in the news)."""
    r = rng.random()
    return items[int(len(items) * r * r)]


class _Writer:
    """The sentences of one story: its company, a peer, a board and a sector, numbers that vary per
    sentence, and in HTML some names as the crawler's inline stock links (`linked`, first seen first)."""

    def __init__(self, rng, n, *, html):
        self.rng = rng
        self.n = n
        self.html = html
        self.company = _skewed(rng, STOCKS)
        self.peer = _skewed(rng, STOCKS)
        self.board = _pick(rng, BOARDS)
        self.sector = _pick(rng, SECTORS)
        self.year = str(2021 + int(rng.random() * 6))
        self.linked = {}
        self.lede = ""
        # The sentences this story may use, each once, in one of a few hundred orders: three of the company's
        # (the first paragraph draws on them), those of two to four other themes, the company's others.
        company = _pick(rng, COMPANY_ORDERS)
        self.pool = [*company[:3], *_pick(rng, _pick(rng, THEME_ORDERS)), *company[3:]]

    def title(self):
        return self.fill(_pick(self.rng, TITLES), linked=False)

    def charted(self, count):
        """The stocks the story charts: its company first."""
        others = [self.peer, *self.rng.sample(KNOWN_STOCKS, 3)]
        return list(dict.fromkeys([self.company, *others]))[:count]

    def sentences(self, count):
        """`count` sentences (fewer when the story's pool runs out), none twice."""
        taken, self.pool = self.pool[:count], self.pool[count:]
        return [self.fill(template) for template in taken]

    def paragraphs(self):
        """Several paragraphs: the company's news first, then market, industry, analysts, policy, funds."""
        rng = self.rng
        self.lede = self.fill(COMPANY[0], linked=False)
        company = [self.lede, *self.sentences(rng.randint(1, 3))]
        paragraphs = [company] + [self.sentences(rng.randint(2, 5)) for _ in range(rng.randint(2, 7))]
        paragraphs = [sentences for sentences in paragraphs if sentences]
        if self.n % RARE_EVERY == RARE_EVERY // 2:
            rare = RARE_TERMS[self.n // RARE_EVERY % len(RARE_TERMS)]
            paragraphs[-1].append(self.fill(RARE_SENTENCE.replace("{rare}", rare)))
        if rng.random() < 0.5:
            paragraphs[-1].append(_pick(rng, CLOSINGS))
        return [f"<p>{''.join(sentences)}</p>" for sentences in paragraphs]

    def fill(self, template, *, linked=True):
        linked = linked and self.html
        return template.format_map({name: SLOTS[name](self, linked) for name in _slot_names(template)})

    def name(self, stock, linked):
        market, code, name = stock
        if not linked or self.rng.random() >= 0.3:
            return name
        self.linked[market, code] = None
        # The crawler's inline stock link, as the sanitiser stores it (it drops the spans' ids).
        return (
            f'<span><a href="http://quote.eastmoney.com/unify/r/{market}.{code}" '
            f'class="keytip" data-code="{market},{code}" rel="noopener noreferrer">{name}</a></span>'
        )


def _orders(sentences, count=256):
    """`count` orders of `sentences`, fixed: picking one costs a story one random number, not a shuffle."""
    rng = random.Random(len(sentences))
    return [rng.sample(sentences, len(sentences)) for _ in range(count)]


COMPANY_ORDERS = _orders(COMPANY[1:])
# For every choice of two to four of the other themes, orders of their sentences together.
THEME_ORDERS = [
    _orders([sentence for theme in themes for sentence in theme], 64)
    for size in (2, 3, 4)
    for themes in itertools.combinations([MARKET, INDUSTRY, ANALYSTS, POLICY, FUNDS], size)
]


@functools.cache
def _slot_names(template):
    return tuple(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(template) if name))


def _number(low, high, digits):
    return lambda writer, linked: f"{low + writer.rng.random() * (high - low):.{digits}f}"


def _one_of(*items):
    return lambda writer, linked: _pick(writer.rng, items)


# What fills each `{slot}` of a template: writer, whether names may be links → text.
SLOTS = {
    "name": lambda writer, linked: writer.name(writer.company, linked),
    "peer": lambda writer, linked: writer.name(writer.peer, linked),
    "board": lambda writer, linked: writer.name(writer.board, linked),
    "code": lambda writer, linked: writer.company[1],
    "sector": lambda writer, linked: writer.sector,
    "year": lambda writer, linked: writer.year,
    "index": _one_of(*INDICES),
    "inst": _one_of(*INSTITUTIONS),
    "city": _one_of(*CITIES),
    "period": _one_of("一季度", "上半年", "前三季度", "全年"),
    "move": _one_of("收涨", "收跌"),
    "change": _one_of("增加", "减少"),
    "pct": _number(0.5, 80, 2),
    "small": _number(0.1, 9.9, 2),
    "small2": _number(0.1, 9.9, 2),
    "small3": _number(0.1, 9.9, 2),
    "num": _number(1, 900, 1),
    "num2": _number(1, 900, 1),
    "big": _number(100, 9000, 0),
    "price": _number(3, 1800, 2),
    "count": _number(3, 260, 0),
    "points": _number(2800, 3700, 2),
    "eps": _number(0.1, 60, 2),
    "month": _number(1, 12, 0),
    "day": _number(1, 28, 0),
    "rate": _one_of("1.80", "2.00", "2.10"),
    "cpi": _number(0.1, 2.8, 1),
    "pmi": _number(48, 52, 1),
    "lpr": _one_of("3.45", "3.65", "3.70"),
    "lpr5": _one_of("4.20", "4.30", "4.65"),
    "rmb": _number(6.3, 7.3, 4),
}


def write_post_files(directory, *, count, seed=0):
    """Write `count` posts as the crawler's Jekyll files under `directory` (`_posts/` and `old_post/`), with
    the file-level quirks of real posts and about 1% malformed on purpose; return how many are malformed."""
    root = Path(directory)
    for folder in ("_posts", "old_post"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    malformed = 0
    for n, generated in enumerate(stories(count, seed=seed)):
        # Quirks have their own random stream: the stories stay the ones parsed_posts makes.
        rng = random.Random(-(seed * 10**12 + n) - 1)
        text = _front_matter_gaps(rng, generated)
        if rng.random() < 0.01:
            data = _malformed(rng, text)
            malformed += 1
        else:
            data = _quirks(rng, text)
        folder = "old_post" if rng.random() < 0.1 else "_posts"
        # A crawler run with an empty time wrote names without the date.
        date = "" if rng.random() < 0.005 else f"{generated.post.published_at:%Y-%m-%d}"
        (root / folder / f"{date}-{generated.post.key}.md").write_bytes(data)
    return malformed


def _front_matter_gaps(rng, generated):
    """The file, now and then with the crawler's gaps in its front matter: inner quotes unescaped, an empty
    title or date (the importer then warns and takes them from the text or the key)."""
    if generated.plain:
        return generated.text()
    roll = rng.random()
    if roll < 0.03:
        title = generated.post.title
        return generated.text(title=f'"分析师称"{title[:8]}"{title[8:]}"')
    if roll < 0.035:
        return generated.text(title='""')
    if roll < 0.04:
        return generated.text(date=" +0800")
    return generated.text()


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
