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

  // Live updates: re-render <main> from the server whenever a change of the change feed
  // (/ui/changes, server-sent events) concerns what this page shows. The EventSource sends the
  // console's cookie, so the feed holds only the changes this caller may see. A burst of
  // changes (a run saves as session.updated + run.created) makes one fetch, never one each, and
  // the page keeps what the user is typing (a re-render waits while a form field has the focus).
  if (!main || !main.dataset.live || !main.dataset.feed || !window.EventSource) return;
  var wanted = main.dataset.sessionId || null;
  var COALESCE_MS = 150;
  var timer = null, inFlight = false, again = false, pending = false;

  function typing() {
    var el = document.activeElement;
    return el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
    if (!fresh) return;
    main.innerHTML = fresh.innerHTML;
    main.dataset.updated = String(Date.now());
  }

  function refresh() {
    timer = null;
    if (typing()) { pending = true; return; }
    if (inFlight) { again = true; return; }
    pending = false;
    inFlight = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        // A session deleted meanwhile answers 404 with the console's page saying so: show it.
        // A redirect to the login form (the token expired) is left for the next navigation.
        if (response.redirected && response.url.indexOf("/ui/login") !== -1) return null;
        return response.text();
      })
      .then(function (html) { if (html) swap(html); })
      .catch(function () { /* offline for a moment: the next change tries again */ })
      .then(function () {
        inFlight = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule() {
    if (timer === null) timer = setTimeout(refresh, COALESCE_MS);
  }

  document.addEventListener("focusout", function () { if (pending) schedule(); });

  // The feed names each event after its kind (session.updated, run.created, ...).
  var kinds = ["session.created", "session.updated", "session.deleted", "session.restored",
               "run.created", "run.updated"];
  var source = new EventSource(main.dataset.feed, { withCredentials: true });
  kinds.forEach(function (kind) {
    source.addEventListener(kind, function (event) {
      var change = null;
      try { change = JSON.parse(event.data); } catch (e) { return; }
      if (!change || (wanted && change.session_id !== wanted)) return;
      schedule();
    });
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
