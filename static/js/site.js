// finews reader pages: the "N new posts" notice on listings, the breaking-news banner it updates,
// the article's read beacon, copying share links, the WeChat QR toggle, the category menu (its
// current item in view, "更多" closing like a menu) and placeholders for pictures and stock charts
// that fail to load.
(function () {
  "use strict";

  var POLL_SECONDS = 60;

  function watchForNewPosts(box) {
    var button = box.querySelector("button");
    var list = document.getElementById(box.dataset.list);
    var url = new URL(box.dataset.poll, location.href);
    var timer = null;

    function ask(withItems) {
      var query = new URL(url);
      if (withItems) query.searchParams.set("items", "1");
      return fetch(query, { headers: { Accept: "application/json" } }).then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      });
    }

    function show(data) {
      showBreaking(data.breaking);
      if (!data.count) return;
      button.textContent = "有 " + (data.capped ? data.count - 1 + "+" : data.count) + " 条新资讯，点击查看";
      box.hidden = false;
    }

    function poll() {
      if (document.hidden) return;
      ask(false).then(show).catch(function () {});
    }

    button.addEventListener("click", function () {
      ask(true).then(function (data) {
        if (!data.html) {
          location.reload();
          return;
        }
        list.insertAdjacentHTML("afterbegin", data.html);
        url.searchParams.set("after", data.after);
        box.hidden = true;
        list.firstElementChild.querySelector("a").focus();
      }).catch(function () { location.reload(); });
    });

    timer = setInterval(poll, POLL_SECONDS * 1000);
    document.addEventListener("visibilitychange", poll);
    box.finewsPoll = poll;  // lets tests and the console check now instead of in a minute
    return timer;
  }

  // The banner every page is served with, shown, changed or hidden as the poll reports.
  function showBreaking(breaking) {
    var banner = document.getElementById("breaking-news");
    if (!banner || breaking === undefined) return;
    var link = banner.querySelector("a");
    if (!breaking) {
      banner.hidden = true;
      return;
    }
    link.href = breaking.url;
    link.textContent = breaking.title;
    banner.hidden = false;
  }

  // One read of this article: sent once the page is shown to someone (not while it is prerendered),
  // once per tab; the server also ignores crawlers and repeats (articles/popularity.py).
  function countRead(layout) {
    var url = layout.dataset.viewBeacon;
    var send = function () {
      try {
        if (sessionStorage.getItem("read:" + url)) return;
        sessionStorage.setItem("read:" + url, "1");
      } catch (error) { /* storage disabled: the server's repeat window still applies */ }
      if (navigator.sendBeacon) navigator.sendBeacon(url);
      else fetch(url, { method: "POST", keepalive: true }).catch(function () {});
    };
    if (document.prerendering) document.addEventListener("prerenderingchange", send, { once: true });
    else send();
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.getElementById(button.dataset.copy);
        field.select();
        var done = function () { button.textContent = "已复制"; };
        if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, function () {});
        else if (document.execCommand("copy")) done();
      });
    });
  }

  // Phones scroll the menu's one row: bring the current page's link to its middle, not the page.
  function showCurrentCategory() {
    var row = document.querySelector(".category-nav-links");
    var current = row && row.querySelector("[aria-current=page]");
    if (!current || row.scrollWidth <= row.clientWidth) return;
    var link = current.getBoundingClientRect();
    var box = row.getBoundingClientRect();
    row.scrollLeft += link.left - box.left - (box.width - link.width) / 2;
  }

  // "更多" is a <details>, open and shut by its summary without JavaScript; this closes it when the
  // reader clicks elsewhere or presses Escape, as a menu does.
  function closeMoreMenuOutside() {
    var more = document.querySelector(".nav-more");
    if (!more) return;
    document.addEventListener("click", function (event) {
      if (more.open && !more.contains(event.target)) more.open = false;
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && more.open) {
        more.open = false;
        more.querySelector("summary").focus();
      }
    });
  }

  // A stock chart or a body picture that fails to load (the chart service down, a picture removed
  // at its source) becomes a placeholder naming what it showed, instead of a broken-image icon. A
  // chart's placeholder sits inside its link, so it still leads to the quote page.
  function placeholder(img) {
    var chart = img.closest(".stock-chart");
    var note = document.createElement("span");
    note.className = "image-fallback";
    var what = document.createElement("strong");
    what.textContent = chart ? "行情图暂时无法显示" : "图片暂时无法显示";
    note.appendChild(what);
    // A chart's figcaption already says what it showed.
    if (img.alt && !(chart && chart.querySelector("figcaption"))) {
      var alt = document.createElement("span");
      alt.textContent = img.alt;
      note.appendChild(alt);
    }
    if (chart && img.closest("a")) {
      var hint = document.createElement("span");
      hint.className = "image-fallback-link";
      hint.textContent = "点击查看实时行情 →";
      note.appendChild(hint);
    }
    img.replaceWith(note);
  }

  function watchImages() {
    document.querySelectorAll(".stock-chart img, .article-body img").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0 && img.currentSrc) placeholder(img);
      else img.addEventListener("error", function () { placeholder(img); }, { once: true });
    });
  }

  // On a phone the WeChat QR code waits behind its button; wider screens show it (CSS hides the button).
  function qrToggles() {
    document.querySelectorAll(".qr-toggle").forEach(function (button) {
      var box = button.closest(".share-box");
      button.addEventListener("click", function () {
        var open = box.classList.toggle("qr-open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
  }

  document.querySelectorAll("[data-poll]").forEach(watchForNewPosts);
  document.querySelectorAll("[data-view-beacon]").forEach(countRead);
  copyButtons();
  showCurrentCategory();
  closeMoreMenuOutside();
  watchImages();
  qrToggles();
})();
