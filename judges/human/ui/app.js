// The rating page of `mores serve`. Everything the server sends is data:
// it is shown with textContent, never parsed as HTML.
'use strict';
(function () {
  // The token came in the address (/r/TOKEN) and now lives in an HttpOnly
  // cookie: take it out of the address bar and the history.
  if (location.pathname !== '/') {
    history.replaceState(null, '', '/');
  }

  var $ = function (id) { return document.getElementById(id); };
  var state = null;
  var sel = { alignment: 0, engagement: 0, choice: '' };
  var busy = false;
  var wantComment = false;

  function show(el, on) { el.hidden = !on; }

  function setStatus(text) {
    $('status').textContent = text;
    show($('status'), text !== '');
  }

  function load() {
    fetch('/api/state', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          noAccess();
          return null;
        }
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (s) { if (s) { render(s); } })
      .catch(function (e) { setStatus('Cannot reach the server (' + e.message + '). Reload to try again.'); });
  }

  function noAccess() {
    show($('item'), false);
    show($('done'), false);
    setStatus('Open the link you were given to start rating.');
  }

  function resetSelection() {
    sel = { alignment: 0, engagement: 0, choice: '' };
    $('comment').value = '';
  }

  function buildScales(scales) {
    var box = $('scales');
    box.textContent = '';
    scales.forEach(function (sc) {
      var fs = document.createElement('fieldset');
      fs.className = 'scale';
      fs.dataset.key = sc.key;
      var lg = document.createElement('legend');
      lg.textContent = sc.name;
      fs.appendChild(lg);
      var def = document.createElement('p');
      def.className = 'definition';
      def.textContent = sc.definition;
      fs.appendChild(def);
      var row = document.createElement('div');
      row.className = 'points';
      for (var v = 1; v <= 7; v++) {
        var b = document.createElement('button');
        b.type = 'button';
        b.className = 'point';
        b.textContent = String(v);
        b.dataset.key = sc.key;
        b.dataset.value = String(v);
        b.setAttribute('aria-pressed', 'false');
        b.setAttribute('aria-label', sc.name + ' ' + v);
        b.addEventListener('click', onPoint);
        row.appendChild(b);
      }
      fs.appendChild(row);
      var anchors = document.createElement('p');
      anchors.className = 'anchors';
      [sc.low, sc.mid, sc.high].forEach(function (t) {
        var s = document.createElement('span');
        s.textContent = t;
        anchors.appendChild(s);
      });
      fs.appendChild(anchors);
      box.appendChild(fs);
    });
  }

  function render(s) {
    var first = state === null;
    var prevItem = state && state.item ? state.item.id : '';
    state = s;
    if (first && s.mode === 'single') { buildScales(s.scales || []); }
    show($('help-single'), s.mode === 'single');
    show($('help-pair'), s.mode === 'pairwise');
    var n = s.item ? s.done + 1 : s.done;
    $('progress').textContent = s.item ? ('Item ' + n + ' of ' + s.total) : (s.done + ' of ' + s.total + ' rated');
    $('bar').max = Math.max(s.total, 1);
    $('bar').value = s.done;
    setStatus('');
    if (!s.item) {
      show($('item'), false);
      show($('done'), true);
      return;
    }
    show($('done'), false);
    show($('item'), true);
    if (s.item.id !== prevItem) { resetSelection(); }
    $('item').dataset.item = s.item.id;
    $('prompt').textContent = s.item.prompt;
    var box = $('responses');
    box.textContent = '';
    box.className = s.mode === 'pairwise' ? 'responses pair' : 'responses';
    s.item.responses.forEach(function (text, i) {
      var card = document.createElement('article');
      card.className = 'response';
      var h = document.createElement('h2');
      h.textContent = s.mode === 'pairwise' ? ('Answer ' + (i === 0 ? 'A' : 'B')) : 'The assistant answered';
      card.appendChild(h);
      var body = document.createElement('div');
      body.className = 'text';
      body.textContent = text;
      card.appendChild(body);
      box.appendChild(card);
    });
    show($('scales'), s.mode === 'single');
    show($('choices'), s.mode === 'pairwise');
    show($('question'), s.mode === 'pairwise');
    $('question').textContent = s.question || '';
    $('error').textContent = s.error || '';
    paint();
    if (prevItem && s.item.id !== prevItem) { window.scrollTo(0, 0); }
  }

  function complete() {
    if (!state || !state.item) { return false; }
    if (state.mode === 'single') { return sel.alignment > 0 && sel.engagement > 0; }
    return sel.choice !== '';
  }

  function paint() {
    var pts = document.querySelectorAll('.point');
    for (var i = 0; i < pts.length; i++) {
      var b = pts[i];
      var on = Number(b.dataset.value) === sel[b.dataset.key];
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    var cs = document.querySelectorAll('.choice');
    for (var j = 0; j < cs.length; j++) {
      cs[j].setAttribute('aria-pressed', cs[j].dataset.choice === sel.choice ? 'true' : 'false');
    }
    $('submit').disabled = !complete() || busy;
  }

  function onPoint(ev) {
    var b = ev.currentTarget;
    sel[b.dataset.key] = Number(b.dataset.value);
    paint();
  }

  function digit(d) {
    if (!sel.alignment || sel.engagement) {
      sel.alignment = d;
      sel.engagement = 0;
    } else {
      sel.engagement = d;
    }
    paint();
  }

  function submit() {
    if (!complete() || busy) { return; }
    var body = { item: state.item.id, comment: $('comment').value };
    if (state.mode === 'single') {
      body.alignment = sel.alignment;
      body.engagement = sel.engagement;
    } else {
      body.choice = sel.choice;
    }
    busy = true;
    paint();
    fetch('/api/rate', {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 401) { noAccess(); return null; }
      return r.json().then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      busy = false;
      if (!res) { return; }
      if (res.status === 200 || res.status === 409) {
        render(res.body);
        return;
      }
      $('error').textContent = (res.body && res.body.error) || ('HTTP ' + res.status);
      paint();
    }).catch(function (e) {
      busy = false;
      $('error').textContent = 'Not saved: cannot reach the server (' + e.message + '). Try again.';
      paint();
    });
  }

  function toggleHelp(on) {
    var h = $('help');
    show(h, on === undefined ? h.hidden : on);
    if (!h.hidden) { $('help-close').focus(); }
  }

  document.addEventListener('keydown', function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var inComment = ev.target === $('comment');
    if (inComment) {
      if (ev.key === 'Enter') { ev.preventDefault(); submit(); }
      if (ev.key === 'Escape') { $('comment').blur(); }
      return;
    }
    if (ev.key === '?') { ev.preventDefault(); toggleHelp(); return; }
    if (ev.key === 'Escape') { toggleHelp(false); return; }
    if (!$('help').hidden || !state || !state.item) { return; }
    if (state.mode === 'single' && ev.key >= '1' && ev.key <= '7') {
      ev.preventDefault();
      digit(Number(ev.key));
      return;
    }
    if (state.mode === 'pairwise') {
      var k = ev.key.toLowerCase();
      var map = { a: 'a', b: 'b', t: 'tie' };
      if (map[k]) { ev.preventDefault(); sel.choice = map[k]; paint(); return; }
    }
    if (ev.key === 'Enter') { ev.preventDefault(); submit(); return; }
    if (ev.key === 'Backspace') {
      ev.preventDefault();
      sel = { alignment: 0, engagement: 0, choice: '' };
      paint();
      return;
    }
    if (ev.key === 'c') { ev.preventDefault(); wantComment = true; }
  });

  // The comment field takes focus when c is released, so that the c itself
  // is not typed into it.
  document.addEventListener('keyup', function (ev) {
    if (ev.key === 'c' && wantComment) {
      wantComment = false;
      $('comment').focus();
    }
  });

  document.addEventListener('DOMContentLoaded', function () {
    $('submit').addEventListener('click', submit);
    $('clear').addEventListener('click', function () {
      sel = { alignment: 0, engagement: 0, choice: '' };
      paint();
    });
    $('help-btn').addEventListener('click', function () { toggleHelp(); });
    $('help-close').addEventListener('click', function () { toggleHelp(false); });
    var cs = document.querySelectorAll('.choice');
    for (var i = 0; i < cs.length; i++) {
      cs[i].addEventListener('click', function (ev) {
        sel.choice = ev.currentTarget.dataset.choice;
        paint();
      });
    }
    load();
  });
})();
