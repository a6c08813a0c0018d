// finews reader pages: the "N new posts" notice on listings, the breaking-news banner it updates,
// the article's read beacon, and copying share links.
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

  document.querySelectorAll("[data-poll]").forEach(watchForNewPosts);
  document.querySelectorAll("[data-view-beacon]").forEach(countRead);
  copyButtons();
})();
