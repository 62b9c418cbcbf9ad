/* saring web pages: live batch progress, sortable and filterable tables, passage twins. Plain JS, no libraries. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // ---- live progress of a running batch: poll the API (the login cookie authenticates), reload when finished
  var poll = document.querySelector("[data-batch-poll]");
  if (poll) {
    var url = poll.getAttribute("data-batch-poll");
    var labels = JSON.parse(poll.getAttribute("data-state-labels") || "{}");
    var set = function (sel, text) { var el = poll.querySelector(sel); if (el) el.textContent = text; };
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (b) {
          if (b.state === "done" || b.state === "failed") { window.location.reload(); return; }
          // the badge follows the batch (a page opened while it waited would otherwise say "Menunggu")
          var badge = document.getElementById("batch-state");
          if (badge && labels[b.state]) { badge.textContent = labels[b.state]; badge.className = "state state-" + b.state; }
          var pct = b.total ? Math.round((100 * b.done) / b.total) : 0;
          poll.querySelector("[data-progress-bar]").style.width = pct + "%";
          poll.querySelector("[role=progressbar]").setAttribute("aria-valuenow", b.done);
          set("[data-progress-done]", b.done);
          set("[data-progress-total]", b.total);
          set("[data-progress-message]", b.message || "Menunggu giliran…");
          var eta = b.eta_seconds;
          set("[data-progress-eta]", eta == null ? "" : "· perkiraan sisa " +
            (eta < 90 ? Math.max(1, Math.round(eta)) + " detik" : Math.round(eta / 60) + " menit"));
          setTimeout(tick, 1000);
        })
        .catch(function () { setTimeout(tick, 3000); });
    };
    setTimeout(tick, 500);
  }

  // ---- tables: click a header to sort (again to reverse); the filter form filters rows without a reload
  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      if (!th.hasAttribute("data-sort")) return;
      th.querySelector("button").addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var numeric = th.getAttribute("data-sort") === "num";
        var key = function (tr) {
          var td = tr.children[col];
          var v = td.hasAttribute("data-value") ? td.getAttribute("data-value") : td.textContent.trim();
          return numeric ? parseFloat(v) || 0 : v.toLowerCase();
        };
        var body = table.tBodies[0];
        Array.prototype.slice.call(body.rows)
          .sort(function (a, b) {
            var x = key(a), y = key(b);
            var c = numeric ? x - y : x.localeCompare(y, "id");
            return asc ? c : -c;
          })
          .forEach(function (tr) { body.appendChild(tr); });
      });
    });
  });

  document.querySelectorAll("form[data-filter-for]").forEach(function (form) {
    var id = form.getAttribute("data-filter-for");
    var table = document.getElementById(id);
    if (!table) return;
    var count = document.querySelector('[data-count-for="' + id + '"]');
    var empty = document.querySelector('[data-empty-for="' + id + '"]');
    var apply = function () {
      var f = {};
      new FormData(form).forEach(function (v, k) { f[k] = String(v).trim().toLowerCase(); });
      var shown = 0, total = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
        var d = tr.dataset;
        var ok = (!f.q || d.teks.indexOf(f.q) >= 0) &&
          (!f.rekomendasi || d.rekomendasi === f.rekomendasi) &&
          (!f.tanda || d.tanda.indexOf(" " + f.tanda + " ") >= 0) &&
          (!f.lengkap || d.lengkap === f.lengkap) &&
          (!f.klaster || d.klaster === f.klaster) &&
          (!f.wilayah || d.wilayah.toLowerCase() === f.wilayah);
        tr.hidden = !ok;
        total += 1;
        if (ok) shown += 1;
      });
      if (count) count.textContent = "Menampilkan " + shown + " dari " + total + " usulan.";
      if (empty) empty.hidden = shown > 0;
      var qs = new URLSearchParams(new FormData(form));
      Array.from(qs.keys()).forEach(function (k) { if (!qs.get(k)) qs.delete(k); });
      history.replaceState(null, "", location.pathname + (qs.toString() ? "?" + qs : ""));
    };
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); apply(); });
  });

  // ---- side by side: clicking a passage scrolls its twin (same number and colour, other text) into view
  var show = function (el) {
    if (!el) return;
    var pane = el.closest(".text");
    if (pane) {
      // Scroll inside the text pane only (the page stays put), the passage a third of the way down.
      var top = el.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
      pane.scrollTo({ top: Math.max(0, top - pane.clientHeight / 3) });
      var r = pane.getBoundingClientRect();
      if (r.top < 0 || r.bottom > window.innerHeight) pane.scrollIntoView({ block: "nearest" });
    } else {
      el.scrollIntoView({ block: "center", inline: "nearest" });
    }
    el.classList.add("flash");
    setTimeout(function () { el.classList.remove("flash"); }, 1600);
  };
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest("a[data-goto]");
    if (link) {
      ev.preventDefault();
      link.getAttribute("data-goto").split(" ").forEach(function (id) { show(document.getElementById(id)); });
      return;
    }
    // A segment's twin is the same segment in the other text; a gap between segments belongs to its passage.
    for (var m = ev.target.closest("mark[data-twin]"); m; m = m.parentElement && m.parentElement.closest("mark[data-twin]")) {
      if (m.classList.contains("tpl")) continue;
      var twin = document.getElementById(m.getAttribute("data-twin"));
      if (twin) { show(twin); return; }
    }
  });
  // Start each text pane at its first numbered passage.
  document.querySelectorAll(".sbs .text").forEach(function (pane) {
    var first = pane.querySelector("mark[data-n]");
    if (first) pane.scrollTop = Math.max(0, first.offsetTop - 24);
  });
  // Print everything, collapsed details included.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.setAttribute("open", ""); });
  });
})();
