// finews reader pages: the "N new posts" notice on listings, copying share links, the WeChat QR toggle.
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
  copyButtons();
  qrToggles();
})();
