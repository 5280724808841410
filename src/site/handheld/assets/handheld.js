// The handheld page (see src/site/handheld/mod.rs). Every scan is first
// written to IndexedDB with its scan_id, then sent in order; a scan not yet
// answered by the daemon is shown as pending, never as accepted. Values
// from scans and answers go on the page as text only (textContent).
"use strict";

(function () {
  var GS = "\u001d";
  var GS_SHOWN = "\u241d"; // ␝: a GS in the field, visible
  var KEY_TOKEN = "scantrail.handheld.token";
  var KEY_ME = "scantrail.handheld.me";
  var KEY_SETTINGS = "scantrail.handheld.settings";
  var KEY_HISTORY = "scantrail.handheld.history";
  var KEY_PRODUCTS = "scantrail.handheld.products";
  var HISTORY_KEPT = 40;

  var $ = function (id) { return document.getElementById(id); };
  var token = localStorage.getItem(KEY_TOKEN);
  var me = readJson(KEY_ME, null);
  var settings = readJson(KEY_SETTINGS, { suffix: "Enter", gs: "auto" });
  // Each station's GS substitute from its scanner profile (the glance).
  var stationGs = readJson("scantrail.handheld.stationgs", {});
  var recent = readJson(KEY_HISTORY, []);
  var products = readJson(KEY_PRODUCTS, {});
  var offline = !navigator.onLine;
  var flushing = false;
  var waiting = 0;
  var revoked = false;

  function readJson(key, fallback) {
    try {
      var v = JSON.parse(localStorage.getItem(key));
      return v === null || v === undefined ? fallback : v;
    } catch (e) {
      return fallback;
    }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full */ }
  }

  // ---- IndexedDB: the queue of scans not yet answered ----
  var dbPromise = new Promise(function (resolve, reject) {
    var open = indexedDB.open("scantrail-handheld", 1);
    open.onupgradeneeded = function () {
      open.result.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });
  function tx(mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction("queue", mode);
        var result = work(t.objectStore("queue"));
        t.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  var queueAdd = function (item) { return tx("readwrite", function (s) { return s.add(item); }); };
  var queueAll = function () { return tx("readonly", function (s) { return s.getAll(); }); };
  var queueDelete = function (seq) { return tx("readwrite", function (s) { return s.delete(seq); }); };

  // ---- ids, sound, vibration ----
  function newId() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  var audio = null;
  function beep(good) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tones = good ? [[1400, 0, 0.09]] : [[320, 0, 0.18], [240, 0.22, 0.3]];
      tones.forEach(function (t) {
        var o = audio.createOscillator();
        var g = audio.createGain();
        o.frequency.value = t[0];
        o.type = good ? "sine" : "square";
        g.gain.value = 0.25;
        o.connect(g);
        g.connect(audio.destination);
        o.start(audio.currentTime + t[1]);
        o.stop(audio.currentTime + t[2]);
      });
    } catch (e) { /* no audio */ }
    if (!good && navigator.vibrate) navigator.vibrate([200, 80, 200]);
  }

  // ---- the API ----
  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + token }, cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init);
  }
  function problemText(response) {
    return response.json().then(function (p) { return p.detail || p.title || ("HTTP " + response.status); },
      function () { return "HTTP " + response.status; });
  }

  // ---- the screens ----
  function show(screen) {
    $("enrol").hidden = screen !== "enrol";
    $("app").hidden = screen !== "app";
    if (screen === "enrol") $("enrol-input").focus();
    else focusScan();
  }
  function enrolProblem(text) {
    var p = $("enrol-problem");
    p.textContent = text;
    p.hidden = !text;
  }
  function enrol(code) {
    enrolProblem("");
    return fetch("/api/v1/handhelds/enrol", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: code }),
    }).then(function (r) {
      if (!r.ok) return problemText(r).then(enrolProblem);
      return r.json().then(function (g) {
        token = g.token;
        me = { name: g.name, stations: g.stations };
        revoked = false;
        localStorage.setItem(KEY_TOKEN, token);
        save(KEY_ME, me);
        start();
      });
    }, function () { enrolProblem("The daemon cannot be reached; check the Wi-Fi and try again."); });
  }

  function station() { return $("station").value; }

  function start() {
    show("app");
    // When the scan screen is up, for the load-time benchmark.
    if (performance.mark) performance.mark("handheld-ready");
    $("who").textContent = me ? me.name : "";
    var select = $("station");
    var kept = localStorage.getItem("scantrail.handheld.station");
    select.textContent = "";
    (me ? me.stations : []).forEach(function (s) {
      var o = document.createElement("option");
      o.value = s;
      o.textContent = s;
      select.appendChild(o);
    });
    if (kept && me && me.stations.indexOf(kept) >= 0) select.value = kept;
    renderHistory();
    api("GET", "/api/v1/handhelds/me").then(function (r) {
      if (r.status === 401) return refusedDevice();
      if (!r.ok) return;
      return r.json().then(function (m) { me = { name: m.name, stations: m.stations }; save(KEY_ME, me); $("who").textContent = m.name; });
    }, function () { setOffline(true); });
    api("GET", "/api/v1/products").then(function (r) {
      if (!r.ok) return;
      return r.json().then(function (list) {
        products = {};
        list.forEach(function (p) { products[p.gtin] = p.description; });
        save(KEY_PRODUCTS, products);
      });
    }, function () {});
    glance();
    flush();
  }

  function refusedDevice() {
    revoked = true;
    showResult("bad", "✘", "This handheld's token is refused (revoked, or unknown to the daemon). Ask a supervisor for a new code.", []);
    $("net").hidden = false;
    $("net").className = "revoked";
    $("net").textContent = "Refused: this handheld is not enrolled. Enrol it again.";
    localStorage.removeItem(KEY_TOKEN);
    token = null;
    setTimeout(function () { show("enrol"); }, 100);
  }

  // ---- the field ----
  function focusScan() {
    var f = $("scan");
    if (!$("app").hidden && document.activeElement !== f && !$("settings").open) f.focus();
  }
  function insertAtCaret(field, text) {
    var s = field.selectionStart, e = field.selectionEnd, v = field.value;
    field.value = v.slice(0, s) + text + v.slice(e);
    field.selectionStart = field.selectionEnd = s + text.length;
  }
  function onKey(e) {
    if (e.key === settings.suffix) {
      e.preventDefault();
      submitField();
      return;
    }
    // A wedge sends GS as the character itself, as Ctrl+], or as a
    // vendor's key; each is kept visible in the field as ␝.
    if (e.key === GS || (e.ctrlKey && (e.key === "]" || e.code === "BracketRight"))) {
      e.preventDefault();
      insertAtCaret(e.target, GS_SHOWN);
    }
  }
  function onInput(e) {
    var f = e.target;
    if (f.value.indexOf(GS) >= 0) {
      var at = f.selectionStart;
      f.value = f.value.split(GS).join(GS_SHOWN);
      f.selectionStart = f.selectionEnd = at;
    }
  }
  function submitField() {
    var f = $("scan");
    var data = f.value.split(GS_SHOWN).join(GS);
    f.value = "";
    if (!data) return;
    scan(data);
  }

  // ---- scans ----
  function scan(data) {
    if (!token) return;
    var gs = settings.gs === "auto" ? (stationGs[station()] || "") : settings.gs;
    var item = { scan_id: newId(), station: station(), data: data, gs: gs, at: Date.now() };
    remember({ scan_id: item.scan_id, data: data, state: "pending", text: "pending, not yet checked" });
    queueAdd(item).then(function () {
      waiting += 1;
      showNet();
      if (offline) {
        showResult("pending", "?", "Saved on this handheld: pending, not yet checked", [["Scan", visible(data)]]);
      }
      flush();
    }, function () {
      showResult("bad", "✘", "This scan could not be saved on the handheld; scan it again.", []);
      beep(false);
    });
  }

  // A scan as shown in lists: GS as [GS] (brackets are outside GS1's
  // character set, so it cannot be mistaken for data).
  function visible(data) { return data.split(GS).join("[GS]"); }

  // Sends every waiting scan in order; stops at the first that cannot be
  // sent (offline, daemon busy) and tries again later.
  var again = false;
  function flush() {
    if (flushing) { again = true; return; }
    if (!token || revoked) return;
    flushing = true;
    again = false;
    queueAll().then(function (items) {
      waiting = items.length;
      showNet();
      var next = function (i) {
        if (i >= items.length) return Promise.resolve();
        var item = items[i];
        var body = { station: item.station, data: item.data, scan_id: item.scan_id };
        if (item.gs) body.gs_substitute = item.gs;
        return api("POST", "/api/v1/scans", body).then(function (r) {
          setOffline(false);
          if (r.status === 401) { refusedDevice(); return "stop"; }
          if (r.status >= 500 || r.status === 408 || r.status === 429) return "stop";
          var decided = r.ok ? r.json() : problemText(r).then(function (t) { return { accepted: false, reason: t }; });
          return decided.then(function (answer) {
            return queueDelete(item.seq).then(function () {
              waiting -= 1;
              decide(item, answer, items.length - i > 1);
              return next(i + 1);
            });
          });
        }, function () { setOffline(true); return "stop"; });
      };
      return next(0);
    }).then(function (stopped) {
      flushing = false;
      showNet();
      glance();
      if (again && stopped !== "stop") flush();
    }, function () {
      flushing = false;
      showNet();
    });
  }

  function decide(item, answer, more) {
    var rows = [];
    var title, mark, kind;
    if (answer.accepted) {
      var m = answer.movement && answer.movement.body;
      if (m) {
        var name = products[m.gtin];
        title = name || ("GTIN " + m.gtin);
        rows.push(["Recorded", m.kind + (answer.movement.seq ? " · seq " + answer.movement.seq : "")]);
        rows.push(["GTIN", m.gtin]);
        if (m.lot) rows.push(["Lot", m.lot]);
        if (m.serial) rows.push(["Serial", m.serial]);
        if (m.expiry) rows.push(["Expiry", m.expiry]);
        if (m.quantity && m.quantity.Units !== undefined) rows.push(["Quantity", String(m.quantity.Units)]);
      } else {
        title = answer.message || "Done";
      }
      (answer.warnings || []).forEach(function (w) { rows.push(["Warning", w.message]); });
      mark = "✔"; kind = "good";
    } else {
      title = answer.reason || "Refused";
      mark = "✘"; kind = "bad";
      rows.push(["Scan", visible(item.data)]);
      if (answer.code) rows.push(["Code", answer.code]);
    }
    remember({ scan_id: item.scan_id, data: item.data, state: kind, text: mark + " " + title });
    if (!more || !answer.accepted) {
      showResult(kind, mark, title, rows);
      beep(answer.accepted);
    }
  }

  function showResult(kind, mark, title, rows) {
    var r = $("result");
    r.className = kind;
    $("mark").textContent = mark;
    $("verdict").textContent = title;
    terms($("detail"), rows);
  }

  // Fills a <dl> with [term, value] rows, as text; each value is
  // classed by its term (v-lot, v-serial) for the tests to find.
  function terms(dl, rows) {
    dl.textContent = "";
    rows.forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = row[0];
      var dd = document.createElement("dd");
      dd.textContent = row[1];
      dd.className = "v-" + row[0].toLowerCase().replace(/ /g, "-");
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
  }

  // ---- history ----
  function remember(entry) {
    var found = false;
    recent = recent.map(function (h) {
      if (h.scan_id === entry.scan_id) { found = true; return entry; }
      return h;
    });
    if (!found) recent.unshift(entry);
    recent = recent.slice(0, HISTORY_KEPT);
    save(KEY_HISTORY, recent);
    renderHistory();
  }
  function renderHistory() {
    var ol = $("scans");
    ol.textContent = "";
    recent.forEach(function (h) {
      var li = document.createElement("li");
      li.className = h.state;
      li.setAttribute("data-scan-id", h.scan_id);
      var what = document.createElement("span");
      what.className = "what";
      what.textContent = h.text;
      var data = document.createElement("span");
      data.className = "data";
      data.textContent = visible(h.data);
      li.appendChild(what);
      li.appendChild(data);
      ol.appendChild(li);
    });
  }

  // ---- online / offline ----
  function setOffline(value) {
    if (offline === value) return;
    offline = value;
    showNet();
    if (!offline) flush();
  }
  function showNet() {
    var n = $("net");
    if (revoked) return;
    if (offline) {
      n.hidden = false;
      n.className = "offline";
      n.textContent = "Offline: " + waiting + " scan" + (waiting === 1 ? "" : "s") + " waiting, not yet checked";
    } else if (waiting > 0) {
      n.hidden = false;
      n.className = "sending";
      n.textContent = "Sending " + waiting + " waiting scan" + (waiting === 1 ? "" : "s") + "…";
    } else {
      n.hidden = true;
      n.className = "";
      n.textContent = "";
    }
  }
  window.addEventListener("online", function () { setOffline(false); flush(); });
  window.addEventListener("offline", function () { setOffline(true); });
  // Every 3 s while scans wait, send them; while offline with none
  // waiting, ask for the glance, whose answer says the link is back.
  setInterval(function () {
    if (waiting > 0) flush();
    else if (offline) glance();
  }, 3000);

  // ---- the station at a glance ----
  function glance() {
    if (!token || !station()) return;
    api("GET", "/api/v1/stations/" + encodeURIComponent(station()) + "/glance").then(function (r) {
      setOffline(false);
      if (r.status === 401) return refusedDevice();
      if (!r.ok) return;
      return r.json().then(renderGlance);
    }, function () { setOffline(true); });
  }
  function renderGlance(g) {
    stationGs[g.station] = g.gs_substitute || "";
    save("scantrail.handheld.stationgs", stationGs);
    var c = g.context || {};
    var rows = [["Station", g.station + " · " + g.mode + (g.location ? " · " + g.location : "")]];
    rows.push(["Operator", c.operator || "nobody signed in"]);
    if (c.order) rows.push(["Order", c.order]);
    // The order's customer as the context names it, else its pick list's.
    var customer = [c.customer, g.pick && g.pick.customer].filter(function (p) { return p && (p.name || p.gln); })[0];
    if (customer) rows.push(["Customer", customer.name || customer.gln]);
    if (c.supplier && (c.supplier.name || c.supplier.gln)) rows.push(["Supplier", c.supplier.name || c.supplier.gln]);
    if (c.purchase_order) rows.push(["Purchase order", c.purchase_order]);
    if (c.despatch_advice) rows.push(["Despatch advice", c.despatch_advice]);
    if (c.return_reason) rows.push(["Return reason", c.return_reason]);
    terms($("context"), rows);
    var table = $("pick");
    var body = table.tBodies[0];
    body.textContent = "";
    if (!g.pick) { table.hidden = true; return; }
    table.hidden = false;
    $("pick-caption").textContent = "Pick list " + g.pick.order;
    g.pick.lines.forEach(function (l) {
      var tr = document.createElement("tr");
      if (l.remaining <= 0) tr.className = "done";
      [l.description || l.gtin, l.lots.length ? l.lots.join(", ") : "any",
        l.remaining + " of " + l.quantity].forEach(function (text, i) {
        var td = document.createElement("td");
        td.textContent = text;
        if (i === 2) td.className = "remaining";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  // ---- camera ----
  function camera() {
    $("photo").click();
  }
  function photoChosen() {
    var file = $("photo").files[0];
    $("photo").value = "";
    if (!file) return;
    if ("BarcodeDetector" in window) {
      createImageBitmap(file).then(function (bitmap) {
        return new window.BarcodeDetector().detect(bitmap);
      }).then(function (codes) {
        if (!codes.length) return upload(file);
        codes.forEach(function (c) { scan(c.rawValue); });
      }, function () { upload(file); });
    } else {
      upload(file);
    }
  }
  function upload(file) {
    var form = new FormData();
    form.append("station", station());
    form.append("image", file);
    showResult("pending", "?", "Reading the photo…", []);
    fetch("/api/v1/scans/image", { method: "POST", headers: { Authorization: "Bearer " + token }, body: form })
      .then(function (r) {
        if (!r.ok) return problemText(r).then(function (t) { showResult("bad", "✘", t, []); beep(false); });
        return r.json().then(function (all) {
          if (!all.barcodes.length) { showResult("bad", "✘", "No barcode found in the photo", []); beep(false); return; }
          all.barcodes.forEach(function (b) {
            var item = { scan_id: newId(), data: b.data };
            decide(item, b.answer, false);
          });
          glance();
        });
      }, function () { showResult("bad", "✘", "A photo needs the network; scan it again when online.", []); beep(false); });
  }

  // ---- settings ----
  function settingsChanged() {
    settings = { suffix: $("suffix").value, gs: $("gs").value };
    save(KEY_SETTINGS, settings);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/handheld/sw.js", { scope: "/handheld/" }).catch(function () {});
    }
    $("enrol-form").addEventListener("submit", function (e) { e.preventDefault(); enrol($("enrol-input").value); });
    $("scan-form").addEventListener("submit", function (e) { e.preventDefault(); submitField(); });
    $("scan").addEventListener("keydown", onKey);
    $("scan").addEventListener("input", onInput);
    $("scan").addEventListener("blur", function () { setTimeout(focusScan, 250); });
    document.addEventListener("click", function (e) {
      var t = e.target;
      if (!t.closest("select, input, button, summary, details")) focusScan();
    });
    $("camera").addEventListener("click", camera);
    $("photo").addEventListener("change", photoChosen);
    $("station").addEventListener("change", function () {
      localStorage.setItem("scantrail.handheld.station", station());
      glance();
      focusScan();
    });
    $("suffix").value = settings.suffix;
    $("gs").value = settings.gs;
    $("suffix").addEventListener("change", settingsChanged);
    $("gs").addEventListener("change", settingsChanged);
    $("settings").addEventListener("toggle", function () { if (!$("settings").open) focusScan(); });
    $("forget").addEventListener("click", function () {
      localStorage.removeItem(KEY_TOKEN);
      localStorage.removeItem(KEY_ME);
      token = null;
      show("enrol");
    });
    setInterval(glance, 15000);
    var code = /[#&]code=([A-Za-z0-9-]+)/.exec(location.hash);
    if (code) {
      window.history.replaceState(null, "", location.pathname);
      $("enrol-input").value = code[1];
      show("enrol");
      enrol(code[1]);
    } else if (token) {
      start();
    } else {
      show("enrol");
    }
  });
})();
