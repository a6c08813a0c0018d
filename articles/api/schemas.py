"""What the JSON API answers with: the OpenAPI document is generated from these."""

import datetime

from ninja import Schema
from pydantic import ConfigDict, Field


class Error(Schema):
    detail: str = Field(description="为什么不能满足请求，中文")


class CategoryOut(Schema):
    slug: str
    name: str
    description: str
    url: str = Field(description="栏目页的完整地址")


class SourceOut(Schema):
    slug: str
    name: str
    url: str


class TagOut(Schema):
    slug: str
    name: str
    url: str | None = Field(description="标签页的完整地址；名称只有标点的旧标签没有页面")


class StockOut(Schema):
    symbol: str = Field(description="东方财富的「市场.代码」，如 116.00020", examples=["116.00020"])
    market: int = Field(description="东方财富市场编号：0 深圳、1 上海、116 香港、105/106/107 美股……")
    code: str
    name: str
    url: str


class ChartOut(Schema):
    market: int
    code: str
    type: str = Field(description="k：K 线图；r：分时图")
    image_url: str
    quote_url: str


class RenditionOut(Schema):
    url: str
    width: int
    height: int
    format: str = Field(description="webp 或 jpg；题图尚未生成多尺寸时为原图的格式")


class LeadImageOut(Schema):
    width: int
    height: int
    renditions: list[RenditionOut]


class PostOut(Schema):
    id: int
    title: str
    slug: str
    url: str = Field(description="文章的地址")
    canonical_url: str = Field(description="这条新闻的规范地址：重复存储的新闻指向来源的原文，否则同 url")
    share_url: str | None = Field(description="旧站分享链接 NewsShare.html?infoCode=…，没有资讯编号时为 null")
    info_code: str | None
    key: str | None = Field(description="导入键：资讯编号或旧站文件编号")
    published_at: datetime.datetime = Field(description="发布时间，北京时间（+08:00）")
    updated_at: datetime.datetime
    summary: str
    body_html: str = Field(description="正文 HTML，已按白名单清理")
    body_text: str = Field(description="正文纯文本")
    category: CategoryOut
    source: SourceOut | None
    tags: list[TagOut]
    charts: list[ChartOut]
    stocks: list[StockOut] = Field(description="图表展示或正文提及的股票")
    lead_image: LeadImageOut | None
    original_url: str


class PostPage(Schema):
    items: list[PostOut]
    next: str | None = Field(description="更早一页的地址（newest first），没有更多时为 null")
    prev: str | None = Field(description="更新一页的地址，第一页为 null")


class CategoryList(Schema):
    items: list[CategoryOut]


class SourcePage(Schema):
    items: list[SourceOut]
    next: str | None


class TagPage(Schema):
    items: list[TagOut]
    next: str | None


class StockPage(Schema):
    items: list[StockOut]
    next: str | None


class IngestFile(Schema):
    # A misspelt field (`txt`) is an error, not a post silently imported without it.
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        description="文件名，如爬虫所写：2022-05-26-202205262391921712.md；没有资讯编号的文章以其中的编号为导入键",
        examples=["2022-05-26-202205262391921712.md"],
    )
    text: str = Field(description="Jekyll 文件全文：YAML 头信息和 Markdown 正文")


class IngestBatch(Schema):
    model_config = ConfigDict(extra="forbid")

    posts: list[IngestFile] = Field(description="最多 500 篇")


class IngestOutcome(Schema):
    name: str
    status: str = Field(description="created、updated、unchanged、conflict、failed 或 skipped")
    key: str | None
    reason: str
    warnings: list[str]
    twin: str | None = Field(description="同一条新闻另一份的导入键（按相同数字编号或相同正文识别）")
    url: str | None = Field(description="写入后文章的地址（已发布或定时发布的文章）")


class IngestResult(Schema):
    summary: dict[str, int] = Field(description="各结果的篇数")
    posts: list[IngestOutcome]
