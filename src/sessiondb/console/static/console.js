// sessiondb console: j/k to move between sessions or runs, and live updates from the change feed.
// No framework: the pages are rendered on the server and work without this script.
(function () {
  "use strict";
  var main = document.getElementById("main");

  // j / k move the focus to the next / previous session link or run; Enter opens a link.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    if (event.key !== "j" && event.key !== "k") return;
    var items = Array.prototype.slice.call(document.querySelectorAll("a.session-link, article.run > header"));
    if (!items.length) return;
    items.forEach(function (item) { if (item.tagName === "HEADER") item.tabIndex = -1; });
    var index = items.indexOf(document.activeElement);
    index = event.key === "j" ? Math.min(index + 1, items.length - 1) : Math.max(index - 1, 0);
    items[index].focus();
    items[index].scrollIntoView({ block: "nearest" });
    event.preventDefault();
  });

  // Live updates: when the server has a change feed, re-render <main> from the server whenever
  // a change concerns what this page shows. The EventSource sends the console's cookie; the
  // page keeps what the user is typing (a re-render waits while a form field has the focus).
  if (!main || !main.dataset.live || !window.EventSource) return;
  var feed = main.dataset.feed;
  if (!feed) return;
  var wanted = main.dataset.sessionId || null;
  var pending = false;

  function typing() {
    var el = document.activeElement;
    return el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
  }

  function refresh() {
    if (typing()) { pending = true; return; }
    pending = false;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!fresh) return;
        main.innerHTML = fresh.innerHTML;
        main.dataset.updated = String(Date.now());
      });
  }

  document.addEventListener("focusout", function () { if (pending) setTimeout(refresh, 0); });

  // The feed names each event after its kind (session.updated, run.created, ...).
  var kinds = ["session.created", "session.updated", "session.deleted", "session.restored",
               "run.created", "run.updated", "message"];
  var source = new EventSource(feed, { withCredentials: true });
  kinds.forEach(function (kind) {
    source.addEventListener(kind, function (event) {
      var change = null;
      try { change = JSON.parse(event.data); } catch (e) { return; }
      if (wanted && change && change.session_id !== wanted) return;
      refresh();
    });
  });
})();
