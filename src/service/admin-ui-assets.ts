/**
 * The status page (GET /admin/ui): one HTML document, one script, one stylesheet, served as static
 * text (no build step, no template: nothing of a request or a secret is ever put into them). The
 * page holds no data: its script asks the admin API for it with the token the user typed, and
 * writes it into the DOM with textContent only. The Content-Security-Policy that goes with them
 * is in routes/admin-ui.ts.
 */

/** Where the token is kept: this tab's session storage, gone when the tab closes. */
const TOKEN_KEY = 'whatsapp-saas.admin-token';

export const ADMIN_UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Secrets status</title>
<link rel="stylesheet" href="/admin/ui/app.css">
<script src="/admin/ui/app.js" defer></script>
</head>
<body>
<header>
  <h1>Secrets status</h1>
  <span id="overall" class="badge" hidden></span>
</header>
<form id="token-form" autocomplete="off">
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
  <button type="submit">Use token</button>
  <button type="button" id="forget" hidden>Forget token</button>
</form>
<p id="message" class="message" role="alert" hidden></p>
<main id="status" hidden>
  <div class="toolbar">
    <button type="button" id="refresh">Refresh now</button>
    <button type="button" id="reload">Reload</button>
    <span id="refresh-result" role="status"></span>
  </div>
  <dl id="summary"></dl>
  <h2>Dependencies</h2>
  <table id="dependencies">
    <thead><tr><th>Dependency</th><th>Status</th><th>Latency</th><th>Code</th></tr></thead>
    <tbody></tbody>
  </table>
  <h2>Secrets</h2>
  <table id="secrets">
    <thead><tr><th>Secret</th><th>Loaded</th><th>Required</th><th>Source</th><th>Version id</th><th>Last refresh</th><th>Last error</th><th>Rotation</th><th>Previous accepted</th></tr></thead>
    <tbody></tbody>
  </table>
</main>
<footer>No secret value ever reaches this page. The admin token stays in this tab's session storage and is sent only as the x-admin-token header.</footer>
</body>
</html>
`;

export const ADMIN_UI_STYLE = `:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #6e7781; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 1rem 1.5rem; max-width: 1280px; }
header { display: flex; align-items: center; gap: 1rem; }
h1 { font-size: 1.4rem; margin: 0.5rem 0; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
form { display: flex; align-items: center; gap: 0.5rem; flex-wrap: wrap; margin: 0.5rem 0 1rem; }
input { font: inherit; padding: 0.3rem 0.5rem; min-width: 22rem; }
button { font: inherit; padding: 0.3rem 0.8rem; cursor: pointer; }
.toolbar { display: flex; align-items: center; gap: 0.5rem; flex-wrap: wrap; }
.message { padding: 0.5rem 0.8rem; border-left: 4px solid var(--bad); background: rgba(207, 34, 46, 0.08); }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; margin: 1rem 0; }
dt { color: var(--muted); }
dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.6rem; border-bottom: 1px solid rgba(110, 119, 129, 0.3); vertical-align: top; }
th { font-weight: 600; }
td.mono { font-family: ui-monospace, monospace; font-size: 0.85em; word-break: break-all; }
td.name { white-space: nowrap; word-break: normal; }
.badge { padding: 0.1rem 0.6rem; border-radius: 1rem; font-weight: 600; border: 1px solid currentColor; }
.ok, .healthy, .up { color: var(--ok); }
.due, .degraded, .off { color: var(--warn); }
.overdue, .unhealthy, .down, .missing { color: var(--bad); }
.muted { color: var(--muted); }
footer { margin-top: 2rem; color: var(--muted); font-size: 0.85em; }
`;

export const ADMIN_UI_SCRIPT = `'use strict';
(function () {
  var TOKEN_KEY = ${JSON.stringify(TOKEN_KEY)};
  var $ = function (id) { return document.getElementById(id); };

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function show(el, visible) { el.hidden = !visible; }

  function say(text) {
    $('message').textContent = text;
    show($('message'), text !== '');
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function when(iso) {
    if (!iso) return '-';
    var ms = Date.now() - Date.parse(iso);
    var ago = ms >= 0 ? duration(ms) + ' ago' : 'in ' + duration(-ms);
    return new Date(iso).toLocaleString() + ' (' + ago + ')';
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return '-';
    var s = Math.round(ms / 1000);
    if (s < 120) return s + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' days';
  }

  function yesNo(b) { return b ? 'yes' : 'no'; }

  function sourceName(source) {
    return source === 'aws' ? 'AWS Secrets Manager' : source === 'env' ? '.env / environment' : source === 'default' ? 'catalog default' : '-';
  }

  // One admin API call with the token as a header; a refusal is turned into a sentence.
  function call(method, path) {
    var t = token();
    if (!t) return Promise.reject(new Error('Type the admin token first.'));
    var init = { method: method, headers: { 'x-admin-token': t }, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (res.ok || (res.status === 502 && body && body.success === false)) return body;
        if (res.status === 401) {
          sessionStorage.removeItem(TOKEN_KEY);
          show($('forget'), false);
          show($('status'), false);
          throw new Error('Wrong admin token (401): the service refused it. Type it again; repeated failures lock this address out for a while.');
        }
        if (res.status === 429) {
          var after = res.headers.get('retry-after');
          throw new Error('Too many attempts (429): wait ' + (after ? after + ' s' : 'a while') + ' before trying again.');
        }
        throw new Error('The service answered HTTP ' + res.status + (body && body.code ? ' (' + body.code + ')' : '') + '.');
      });
    }, function () {
      throw new Error('The service cannot be reached.');
    });
  }

  function renderSummary(view) {
    var dl = $('summary');
    dl.textContent = '';
    var rows = [
      ['Secrets', view.status],
      ['Source', view.source + (view.region ? ' (' + view.region + ')' : '')],
      ['Serving region', view.region ? view.region + (view.degraded ? ' (replica; primary ' + view.primaryRegion + ' failed)' : view.primaryRegion ? ' (primary)' : '') + ' since ' + when(view.regionSince) : '-'],
      ['Loaded', view.secretsLoaded + ' of ' + view.totalSecrets + (view.requiredSecretsOk ? ', every required one' : ', a required one is MISSING')],
      ['Cache age', duration(view.cacheAge) + (view.cacheExpired ? ' (expired)' : '')],
      ['Last full refresh', when(view.lastRefresh)],
      ['Last refresh of any kind', view.lastAnyRefresh ? when(view.lastAnyRefresh.at) + ' (' + (view.lastAnyRefresh.kind === 'names' ? 'named secrets' : 'whole catalog') + ', ' + view.lastAnyRefresh.reason + ')' : '-'],
      ['Next refresh', when(view.nextRefresh)],
      ['Last error', view.lastErrorCode || '-'],
      ['Failed refreshes in a row', String(view.consecutiveFailures)],
      ['Placeholders', view.placeholders && view.placeholders.length ? view.placeholders.join(', ') + ' (placeholder values: fine locally, replace before talking to Meta or OpenAI)' : 'none']
    ];
    rows.forEach(function (r) {
      var dt = document.createElement('dt');
      dt.textContent = r[0];
      var dd = document.createElement('dd');
      dd.textContent = r[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    var badge = $('overall');
    badge.textContent = view.status;
    badge.className = 'badge ' + view.status;
    show(badge, true);
  }

  function renderDependencies(deps) {
    var body = $('dependencies').tBodies[0];
    body.textContent = '';
    Object.keys(deps || {}).forEach(function (name) {
      var d = deps[name];
      var row = body.insertRow();
      row.dataset.dependency = name;
      cell(row, name);
      cell(row, d.status, d.status);
      cell(row, d.status === 'off' ? '-' : d.latencyMs + ' ms');
      cell(row, d.code || '-');
    });
  }

  function renderSecrets(secrets) {
    var body = $('secrets').tBodies[0];
    body.textContent = '';
    Object.keys(secrets).forEach(function (name) {
      var s = secrets[name];
      var row = body.insertRow();
      row.dataset.secret = name;
      cell(row, name, 'mono name');
      if (s.placeholder) cell(row, 'placeholder', 'degraded placeholder');
      else cell(row, yesNo(s.loaded), s.loaded ? 'ok' : s.required ? 'missing' : 'muted');
      cell(row, yesNo(s.required));
      cell(row, sourceName(s.source));
      cell(row, s.versionId || '-', 'mono version');
      cell(row, when(s.lastRefresh), 'last-refresh');
      cell(row, s.lastErrorCode || '-', s.lastErrorCode ? 'down' : '');
      var r = s.rotation || { state: 'n/a', schedule: '-' };
      var due = r.dueAt ? ', due ' + new Date(r.dueAt).toLocaleDateString() : '';
      cell(row, r.state + due + (r.schedule !== '-' ? ' (' + r.schedule + ')' : ''), r.state === 'n/a' ? 'muted' : r.state);
      cell(row, yesNo(s.previousAccepted));
    });
  }

  function load() {
    return call('GET', '/admin/secrets/health').then(function (view) {
      say('');
      renderSummary(view);
      renderDependencies(view.dependencies);
      renderSecrets(view.secrets);
      show($('status'), true);
      show($('forget'), true);
      document.body.dataset.loadedAt = new Date().toISOString();
    }, function (e) { say(e.message); });
  }

  function refreshNow() {
    var out = $('refresh-result');
    out.textContent = 'Refreshing...';
    $('refresh').disabled = true;
    return call('POST', '/admin/refresh-secrets').then(function (r) {
      if (r.success) {
        var changed = r.changed && r.changed.length ? r.changed.join(', ') : 'nothing';
        var failed = r.failed && r.failed.length ? '; failed: ' + r.failed.map(function (f) { return f.name + ' (' + f.code + ')'; }).join(', ') : '';
        out.textContent = 'Refreshed at ' + new Date(r.lastRefresh).toLocaleTimeString() + '; changed: ' + changed + failed + (r.notifiedOtherInstances ? '; other instances told' : '');
      } else {
        out.textContent = 'Refresh failed (' + (r.sourceCode || r.code) + '); cached values are still served.';
      }
      return load();
    }, function (e) {
      out.textContent = '';
      say(e.message);
    }).then(function () { $('refresh').disabled = false; });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var input = $('token');
      var t = input.value.trim();
      input.value = '';
      if (t === '') return;
      // Tokens are base64, base64url or hex: anything else cannot be one, nor travel in a header.
      if (!/^[\\x21-\\x7e]{1,512}$/.test(t)) {
        say('That is not an admin token: it has spaces or characters an HTTP header cannot carry.');
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, t);
      load();
    });
    $('forget').addEventListener('click', function () {
      sessionStorage.removeItem(TOKEN_KEY);
      show($('status'), false);
      show($('forget'), false);
      show($('overall'), false);
      say('');
    });
    $('refresh').addEventListener('click', refreshNow);
    $('reload').addEventListener('click', load);
    if (token()) load();
  });
})();
`;
