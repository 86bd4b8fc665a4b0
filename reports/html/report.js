(function () {
  "use strict";
  // The sample browser of a Mores report. Every text from the run (model
  // output above all) is untrusted: it reaches the page through
  // textContent only, never as markup.
  var raw = JSON.parse(document.getElementById("mores-data").textContent);
  if (typeof raw === "string") {
    // Large runs embed their data gzip-compressed, as base64.
    var bin = atob(raw), bytes = new Uint8Array(bin.length);
    for (var b = 0; b < bin.length; b++) bytes[b] = bin.charCodeAt(b);
    bin = raw = null;
    new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function (text) {
      start(JSON.parse(text));
    }, function (err) {
      document.getElementById("count").textContent = "The sample data could not be read: " + err;
    });
  } else {
    start(raw);
  }

  function start(D) {
    // n trials are in the sample (all of them unless the run has more
    // than the report's sample size); D.total in the run. The counts of
    // the filters are exact: D.cells, D.cell_n, D.cell_err and the
    // verdicts' counts cover every trial.
    var n = D.n, total = D.total, S = D.str, M = D.metrics, sampled = n < total;

    function el(tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined && text !== null) e.textContent = String(text);
      return e;
    }
    function fmt(v) {
      if (v === null || v === undefined) return "—";
      return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
    }
    function metricName(c) {
      return c.judge + "." + c.metric + (c.rater ? " (" + c.rater + ")" : "");
    }

    // pos[k][i] is the entry of trial i in metric column k, or -1.
    var pos = M.map(function (c) {
      var p = new Int32Array(n).fill(-1);
      for (var j = 0; j < c.t.length; j++) p[c.t[j]] = j;
      return p;
    });

    // Verdicts: for each metric, each label seen (or each 0/1 value of a
    // binary metric without labels), and judge errors; plus the trials
    // that failed.
    var verdicts = D.verdicts.map(function (v) {
      var text = v.value !== undefined ? "= " + fmt(v.value) : v.label < 0 ? "judge error" : S[v.label];
      return { k: v.k, label: v.value !== undefined ? undefined : v.label, value: v.value, text: text, n: v.n };
    });
    var failed = 0;
    for (var x = 0; x < D.cells.length; x++) failed += D.cell_err[x];

    var fSuite = document.getElementById("f-suite"), fModel = document.getElementById("f-model"),
      fAttack = document.getElementById("f-attack"), fVerdict = document.getElementById("f-verdict");

    function counts(dim, size) {
      var c = new Float64Array(size);
      for (var x = 0; x < D.cells.length; x++) c[D.cells[x][dim]] += D.cell_n[x];
      return c;
    }
    function fill(sel, names, dim) {
      var c = counts(dim, names.length);
      sel.appendChild(el("option", null, "all")).value = "-1";
      for (var i = 1; i < names.length; i++) {
        if (c[i] === 0) continue;
        var o = el("option", null, names[i] + " (" + c[i] + ")");
        o.value = String(i);
        sel.appendChild(o);
      }
    }
    fill(fSuite, D.suites, 0);
    fill(fModel, D.models, 1);
    fill(fAttack, D.attacks, 2);
    fVerdict.appendChild(el("option", null, "any")).value = "";
    var groups = new Map();
    verdicts.forEach(function (v, vi) {
      var g = groups.get(v.k);
      if (!g) {
        g = el("optgroup");
        g.label = metricName(M[v.k]);
        groups.set(v.k, g);
        fVerdict.appendChild(g);
      }
      var o = el("option", null, metricName(M[v.k]) + ": " + v.text);
      o.value = "v" + vi;
      g.appendChild(o);
    });
    if (failed > 0) {
      var o = el("option", null, "no response (error)");
      o.value = "err";
      fVerdict.appendChild(o);
    }

    var rows = new Int32Array(n), nrows = 0, exact = 0, page = 0, size = D.page_size || 50, open = -1;
    var tbody = document.querySelector("#trials tbody");
    var countEl = document.getElementById("count"), pageEl = document.getElementById("page");
    var prev = document.getElementById("prev"), next = document.getElementById("next");

    function verdictMask(v) {
      var mask = new Uint8Array(n);
      if (v === "err") {
        for (var i = 0; i < n; i++) mask[i] = D.err[i] > 0 ? 1 : 0;
        return mask;
      }
      var vd = verdicts[Number(v.slice(1))], c = M[vd.k];
      if (!c.t) return mask;
      for (var j = 0; j < c.t.length; j++) {
        var hit = vd.label === undefined ? (c.l[j] === 0 && c.v[j] === vd.value)
          : vd.label < 0 ? c.e[j] > 0 : c.l[j] === vd.label;
        if (hit) mask[c.t[j]] = 1;
      }
      return mask;
    }

    function applyFilters() {
      var s = Number(fSuite.value), m = Number(fModel.value), a = Number(fAttack.value);
      var mask = fVerdict.value ? verdictMask(fVerdict.value) : null;
      var su = D.suite, mo = D.model, at = D.attack;
      // The exact count, over every trial of the run.
      var vd = fVerdict.value && fVerdict.value !== "err" ? verdicts[Number(fVerdict.value.slice(1))] : null;
      exact = 0;
      for (var x = 0; x < D.cells.length; x++) {
        var cl = D.cells[x];
        if ((s < 0 || cl[0] === s) && (m < 0 || cl[1] === m) && (a < 0 || cl[2] === a)) {
          exact += vd ? vd.n[x] : fVerdict.value === "err" ? D.cell_err[x] : D.cell_n[x];
        }
      }
      nrows = 0;
      for (var i = 0; i < n; i++) {
        if ((s < 0 || su[i] === s) && (m < 0 || mo[i] === m) && (a < 0 || at[i] === a) && (!mask || mask[i])) {
          rows[nrows++] = i;
        }
      }
      page = 0;
      open = -1;
      render();
    }

    function chips(i) {
      var box = el("span", "chips");
      for (var k = 0; k < M.length; k++) {
        var j = pos[k][i];
        if (j < 0) continue;
        var c = M[k], text;
        if (c.e[j] > 0) text = c.metric + ": error";
        else if (c.l[j] > 0) text = S[c.l[j]];
        else if (c.binary) text = c.metric + " " + fmt(c.v[j]);
        else continue;
        var chip = el("span", "chip" + (c.e[j] > 0 ? " chip-err" : c.v[j] === 1 ? " chip-on" : ""), text);
        chip.title = metricName(c);
        box.appendChild(chip);
      }
      if (D.err[i] > 0) box.appendChild(el("span", "chip chip-err", "error"));
      return box;
    }

    function preview(i) {
      if (D.err[i] > 0 && !D.resp[i]) return S[D.err[i]];
      var r = D.resp[i];
      return r.length > 160 ? r.slice(0, 160) + "…" : r;
    }

    function render() {
      var pages = Math.max(1, Math.ceil(nrows / size));
      page = Math.min(Math.max(page, 0), pages - 1);
      var from = page * size, to = Math.min(nrows, from + size);
      var frag = document.createDocumentFragment();
      for (var r = from; r < to; r++) {
        var i = rows[r];
        var tr = el("tr", "row");
        tr.dataset.i = String(i);
        tr.tabIndex = 0;
        tr.appendChild(el("td", "num c-num", D.row[i]));
        tr.appendChild(el("td", "c-suite", D.suites[D.suite[i]]));
        tr.appendChild(el("td", "c-sample", S[D.sample[i]] + (D.epoch[i] > 1 ? " #" + D.epoch[i] : "")));
        tr.appendChild(el("td", "c-model", D.models[D.model[i]]));
        tr.appendChild(el("td", "c-attack", D.attacks[D.attack[i]]));
        var td = el("td");
        td.appendChild(chips(i));
        tr.appendChild(td);
        tr.appendChild(el("td", "c-resp", preview(i)));
        frag.appendChild(tr);
        if (i === open) frag.appendChild(detail(i));
      }
      tbody.replaceChildren(frag);
      if (!sampled) {
        countEl.textContent = nrows === n ? n + " trials" : nrows + " of " + n + " trials match";
      } else {
        countEl.textContent = (exact === total ? total + " trials" : exact + " of " + total + " trials match") +
          "; the sample below holds " + nrows + " of them";
      }
      pageEl.textContent = nrows === 0 ? "no trials" : "rows " + (from + 1) + "–" + to + " · page " + (page + 1) + " of " + pages;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }

    function block(title, text, note) {
      var box = el("div", "block");
      box.appendChild(el("h4", null, title));
      box.appendChild(el("pre", "text", text));
      if (note) box.appendChild(el("p", "cut", note));
      return box;
    }

    function detail(i) {
      var tr = el("tr", "detail"), td = el("td");
      td.colSpan = 7;
      var d = el("div", "detail-box");
      d.appendChild(el("h3", null, D.suites[D.suite[i]] + " / " + S[D.sample[i]] + " · " + D.models[D.model[i]] +
        " · attack " + D.attacks[D.attack[i]] + " · epoch " + D.epoch[i]));
      if (D.system[i] > 0) d.appendChild(block("System prompt", S[D.system[i]]));
      d.appendChild(block("Prompt", S[D.prompt[i]]));
      var note = D.cut[i] > 0 ? "… " + D.cut[i] + " more characters in responses.parquet (the report embeds " + D.max_text + ")." : "";
      d.appendChild(block("Response", D.resp[i], note));
      if (D.err[i] > 0) d.appendChild(block("Error", S[D.err[i]]));
      var meta = el("p", "meta");
      meta.textContent = "finish " + (S[D.finish[i]] || "—") + " · tokens " + D.tokens[2 * i] + " + " + D.tokens[2 * i + 1] +
        " · latency " + fmt(D.latency[i]) + " ms";
      d.appendChild(meta);
      var t = el("table", "scores"), head = el("tr");
      ["judge", "metric", "value", "label", "reason"].forEach(function (h) { head.appendChild(el("th", h === "value" ? "num" : null, h)); });
      t.appendChild(el("thead")).appendChild(head);
      var body = t.appendChild(el("tbody")), any = false;
      for (var k = 0; k < M.length; k++) {
        var j = pos[k][i];
        if (j < 0) continue;
        any = true;
        var c = M[k], row = el("tr");
        row.appendChild(el("td", null, c.judge + (c.rater ? " (" + c.rater + ")" : "")));
        row.appendChild(el("td", null, c.metric));
        row.appendChild(el("td", "num", c.e[j] > 0 ? "—" : fmt(c.v[j])));
        row.appendChild(el("td", null, S[c.l[j]]));
        row.appendChild(el("td", c.e[j] > 0 ? "reason err" : "reason", c.e[j] > 0 ? "error: " + S[c.e[j]] : S[c.x[j]]));
        body.appendChild(row);
      }
      var h = el("h4", null, "Scores");
      d.appendChild(h);
      if (any) {
        var wrap = el("div", "scroll");
        wrap.appendChild(t);
        d.appendChild(wrap);
      } else {
        d.appendChild(el("p", "meta", "No scores."));
      }
      td.appendChild(d);
      tr.appendChild(td);
      return tr;
    }

    function toggle(tr) {
      var i = Number(tr.dataset.i);
      var shown = tr.nextElementSibling && tr.nextElementSibling.classList.contains("detail");
      var old = tbody.querySelector("tr.detail");
      if (old) old.remove();
      tbody.querySelectorAll("tr.open").forEach(function (r) { r.classList.remove("open"); });
      if (shown && open === i) {
        open = -1;
        return;
      }
      open = i;
      tr.classList.add("open");
      tr.after(detail(i));
    }

    tbody.addEventListener("click", function (ev) {
      var tr = ev.target.closest("tr.row");
      if (tr && !(window.getSelection && String(window.getSelection()).length > 0)) toggle(tr);
    });
    tbody.addEventListener("keydown", function (ev) {
      var tr = ev.target.closest("tr.row");
      if (tr && (ev.key === "Enter" || ev.key === " ")) {
        ev.preventDefault();
        toggle(tr);
      }
    });
    [fSuite, fModel, fAttack, fVerdict].forEach(function (s) { s.addEventListener("change", applyFilters); });
    document.getElementById("filters").addEventListener("reset", function () { setTimeout(applyFilters, 0); });
    prev.addEventListener("click", function () { page--; open = -1; render(); });
    next.addEventListener("click", function () { page++; open = -1; render(); });
    applyFilters();
    document.documentElement.dataset.ready = "1";
    if (window.performance && performance.mark) performance.mark("mores-ready");
  }
})();
