// scantrail console: the little script the pages need, embedded in the
// binary. Everything shown is set with textContent (never innerHTML from
// data), so a lot named <script> stays text. Fragments fetched from the
// daemon's own pages are HTML it rendered and escaped.
"use strict";

(function () {
  const MAX_ROWS = 200;

  function feed(list) {
    const select = document.getElementById("feed-station");
    const rate = document.getElementById("feed-rate");
    let source = null;

    function row(kind, text) {
      const li = document.createElement("li");
      li.className = kind;
      li.textContent = text;
      return li;
    }

    function show(batch) {
      const total = batch.accepted + batch.refused + batch.other;
      const perSecond = batch.span_ms > 0 ? Math.round(total * 1000 / batch.span_ms) : total;
      rate.textContent = perSecond + " scans/s · " + batch.refused + " refused in the last " +
        (batch.span_ms / 1000).toFixed(1) + " s";
      const fragment = document.createDocumentFragment();
      const hidden = total - batch.lines.length;
      if (hidden > 0) {
        fragment.appendChild(row("summary", hidden + " more scans (" + batch.accepted +
          " accepted, " + batch.refused + " refused) at " + perSecond + " scans/s"));
      }
      if (batch.missed > 0) {
        fragment.appendChild(row("summary", batch.missed + " events missed: the feed fell behind"));
      }
      for (const line of batch.lines) {
        fragment.appendChild(row(line.kind, line.time + "  " + line.station + "  " + line.text));
      }
      // Newest first.
      const rows = Array.from(fragment.childNodes).reverse();
      for (const r of rows) {
        list.insertBefore(r, list.firstChild);
      }
      while (list.childNodes.length > MAX_ROWS) {
        list.removeChild(list.lastChild);
      }
      for (const line of batch.lines) {
        const tile = document.querySelector('.tile[data-station="' + CSS.escape(line.station) + '"] dd.last');
        if (tile && line.kind !== "context") {
          tile.textContent = line.time.slice(0, 8) + " " + line.text;
          tile.className = "last " + line.kind;
        }
      }
    }

    function connect() {
      if (source) source.close();
      const station = select ? select.value : "";
      const url = list.dataset.source + (station ? "?station=" + encodeURIComponent(station) : "");
      source = new EventSource(url);
      source.addEventListener("open", function () { rate.textContent = "connected, waiting for scans"; });
      source.addEventListener("batch", function (e) { show(JSON.parse(e.data)); });
      source.addEventListener("error", function () { rate.textContent = "reconnecting…"; });
    }

    if (select) select.addEventListener("change", connect);
    connect();
  }

  function refresh(box) {
    const every = 5000;
    setInterval(function () {
      if (document.hidden) return;
      fetch(box.dataset.refresh, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          const doc = new DOMParser().parseFromString(html, "text/html");
          box.replaceChildren(...doc.body.childNodes);
        })
        .catch(function () {});
    }, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const list = document.getElementById("feed");
    if (list) feed(list);
    for (const box of document.querySelectorAll("[data-refresh]")) refresh(box);
    for (const button of document.querySelectorAll("[data-print]")) {
      button.addEventListener("click", function () { window.print(); });
    }
  });
})();
