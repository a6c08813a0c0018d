from articles.html import sanitize_html


def test_scripts_and_event_handlers_are_removed():
    html = sanitize_html('<p onclick="steal()">新闻<script>alert(1)</script><img src="x.png" onerror="alert(1)"></p>')
    assert "script" not in html
    assert "onclick" not in html
    assert "onerror" not in html
    assert "新闻" in html
    assert 'src="x.png"' in html


def test_javascript_urls_and_iframes_are_removed():
    html = sanitize_html('<a href="javascript:alert(1)">点我</a><iframe src="https://evil.example"></iframe>')
    assert "javascript:" not in html
    assert "iframe" not in html
    assert "点我" in html


def test_inline_styles_are_dropped_and_links_get_rel():
    html = sanitize_html('<p style="display:none">隐藏</p><a href="https://quote.eastmoney.com/">行情</a>')
    assert "style" not in html
    assert 'rel="noopener noreferrer"' in html


def test_ids_are_dropped_so_a_body_cannot_take_the_pages_own():
    html = sanitize_html(
        '<p><span id="share-url" class="keytip">分享</span><a id="x" href="https://a.example/">a</a></p>'
    )
    assert "id=" not in html
    assert '<span class="keytip">分享</span>' in html
