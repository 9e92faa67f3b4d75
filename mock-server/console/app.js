// The lc-mock console: reads and changes the app through its own REST API and the
// emulator's /__mock/ routes, with the master key, so it shows what a client of the app
// would get. No build step: this file is served as it is (embedded in the binary).
'use strict';

const state = { appId: '', masterKey: '', className: null, skip: 0, limit: 20, order: '', where: '', schemas: [], live: null };

// ---- small helpers -------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'onclick' || k === 'onsubmit' || k === 'onchange') node[k] = v;
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function say(text, bad) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = bad ? 'bad' : '';
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { s.textContent = ''; }, 4000);
}

function pretty(v) { return JSON.stringify(v, null, 2); }

function parseJson(text, what) {
  try { return text.trim() === '' ? {} : JSON.parse(text); } catch (e) { throw new Error(`${what} is not JSON: ${e.message}`); }
}

/** One request to the app, as the master key (or as `as`: {session} or {anonymous}). */
async function api(method, path, body, as) {
  const headers = { 'X-LC-Id': state.appId, 'Content-Type': 'application/json' };
  if (as && as.session) { headers['X-LC-Key'] = state.appKey || ''; headers['X-LC-Session'] = as.session; }
  else if (as && as.anonymous) headers['X-LC-Key'] = state.appKey || '';
  else headers['X-LC-Key'] = `${state.masterKey},master`;
  const started = performance.now();
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json, ms: performance.now() - started };
}

async function ok(method, path, body) {
  const r = await api(method, path, body);
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${typeof r.body === 'object' ? r.body.error : r.body}`);
  return r.body;
}

function guard(fn) {
  return async (...args) => { try { await fn(...args); } catch (e) { say(e.message, true); } };
}

// ---- start ---------------------------------------------------------------------------

async function start() {
  const cfg = await (await fetch('config.json')).json();
  state.appId = cfg.appId || sessionStorage.getItem('lc-console-app') || '';
  state.appKey = cfg.appKey || '';
  state.masterKey = cfg.masterKey || sessionStorage.getItem('lc-console-key') || '';
  if (!state.masterKey) {
    const login = document.getElementById('login');
    login.hidden = false;
    document.getElementById('login-app').value = state.appId;
    document.getElementById('login-form').onsubmit = (e) => {
      e.preventDefault();
      state.appId = document.getElementById('login-app').value.trim();
      state.masterKey = document.getElementById('login-key').value;
      sessionStorage.setItem('lc-console-app', state.appId);
      sessionStorage.setItem('lc-console-key', state.masterKey);
      login.hidden = true;
      ready();
    };
    return;
  }
  ready();
}

function ready() {
  document.getElementById('app-id').textContent = `app ${state.appId}`;
  for (const b of document.querySelectorAll('nav button')) b.onclick = () => show(b.dataset.tab);
  wireTraces();
  wireOutbox();
  wireControl();
  guard(loadClasses)();
}

function show(tab) {
  for (const b of document.querySelectorAll('nav button')) b.setAttribute('aria-pressed', String(b.dataset.tab === tab));
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== `tab-${tab}`;
  const loaders = { data: loadClasses, cloud: loadCloud, traces: loadTraces, outbox: loadOutbox, control: loadClock };
  guard(loaders[tab])();
}

// ---- data ----------------------------------------------------------------------------

async function loadClasses() {
  const r = await ok('GET', '/__mock/classes');
  state.schemas = r.results || [];
  const list = document.getElementById('classes');
  list.replaceChildren();
  for (const s of state.schemas) {
    list.append(el('li', {}, el('button', { type: 'button', 'aria-current': String(s.className === state.className), onclick: () => openClass(s.className) }, el('span', {}, s.className), el('span', { class: 'muted' }, String(s.count)))));
  }
  if (state.className) await renderClass();
}

function openClass(name, where) {
  state.className = name;
  state.skip = 0;
  state.order = '';
  state.where = where || '';
  for (const b of document.querySelectorAll('#classes button')) b.setAttribute('aria-current', String(b.firstChild.textContent === name));
  guard(renderClass)();
}

function cell(value) {
  if (value && typeof value === 'object' && value.__type === 'Pointer') {
    return el('button', { type: 'button', class: 'link', onclick: () => openObject(value.className, value.objectId) }, `${value.className}:${value.objectId}`);
  }
  if (value && typeof value === 'object' && value.__type === 'Date') return value.iso;
  if (value && typeof value === 'object') return el('code', {}, JSON.stringify(value));
  return value === undefined ? '' : String(value);
}

async function renderClass() {
  const name = state.className;
  const view = document.getElementById('class-view');
  const schema = state.schemas.find((s) => s.className === name) || {};
  const params = new URLSearchParams({ limit: String(state.limit), skip: String(state.skip), count: '1' });
  if (state.order) params.set('order', state.order);
  if (state.where) params.set('where', state.where);
  const page = await ok('GET', `/1.1/classes/${encodeURIComponent(name)}?${params}`);
  const rows = page.results || [];
  const keys = ['objectId', ...Object.keys(schema.columns || {}).filter((k) => !['objectId', 'createdAt', 'updatedAt', 'ACL'].includes(k)), 'createdAt', 'updatedAt'];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k) && k !== 'ACL') keys.push(k);
  const sortButton = (k) => el('button', { type: 'button', onclick: () => { state.order = state.order === k ? `-${k}` : k; guard(renderClass)(); }, 'aria-label': `Sort by ${k}` }, k + (state.order === k ? ' ▲' : state.order === `-${k}` ? ' ▼' : ''));
  const table = el('table', {}, el('thead', {}, el('tr', {}, keys.map((k) => el('th', { scope: 'col' }, sortButton(k))))),
    el('tbody', {}, rows.map((r) => el('tr', {}, keys.map((k) => el('td', {}, k === 'objectId'
      ? el('button', { type: 'button', class: 'link', onclick: () => openObject(name, r.objectId) }, r.objectId)
      : cell(r[k])))))));
  const whereBox = el('textarea', { id: 'where', 'aria-label': 'where (JSON)', placeholder: '{"status": "active"}' });
  whereBox.value = state.where;
  const fields = Object.entries(schema.columns || {}).map(([k, f]) => el('tr', {}, el('td', {}, k), el('td', {}, f.className ? `${f.type} → ${f.className}` : f.type),
    el('td', {}, ['required', 'readonly', 'hidden'].filter((flag) => f[flag]).join(', ')),
    el('td', {}, f.default === undefined ? '' : JSON.stringify(f.default))));
  view.replaceChildren(
    el('h2', {}, `${name} `, el('span', { class: 'muted' }, `${page.count} row${page.count === 1 ? '' : 's'}`)),
    el('details', {}, el('summary', {}, 'Schema, indexes and permissions'),
      el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Column'), el('th', {}, 'Type'), el('th', {}, 'Rules'), el('th', {}, 'Default'))), el('tbody', {}, fields)),
      el('h3', {}, 'Indexes'), el('pre', {}, pretty(schema.indexes || [])),
      el('h3', {}, 'Class permissions'), el('pre', {}, pretty(schema.permissions || {})),
      el('h3', {}, 'Default ACL'), el('pre', {}, pretty(schema.defaultACL || { '*': { read: true, write: true } }))),
    el('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); state.where = whereBox.value.trim(); state.skip = 0; guard(renderClass)(); } },
      el('label', { style: 'flex:1' }, 'where', whereBox), el('button', { type: 'submit' }, 'Filter'),
      el('button', { type: 'button', onclick: () => openObject(name, null) }, 'New row')),
    table,
    el('div', { class: 'row' },
      el('button', { type: 'button', disabled: state.skip === 0, onclick: () => { state.skip = Math.max(0, state.skip - state.limit); guard(renderClass)(); } }, 'Previous'),
      el('span', { class: 'muted' }, `${state.skip + 1}–${state.skip + rows.length} of ${page.count}`),
      el('button', { type: 'button', disabled: state.skip + rows.length >= page.count, onclick: () => { state.skip += state.limit; guard(renderClass)(); } }, 'Next')),
    el('div', { id: 'object-view' }));
}

async function openObject(className, id) {
  if (className !== state.className) { state.className = className; state.skip = 0; state.where = ''; await renderClass(); }
  const box = document.getElementById('object-view');
  const editor = el('textarea', { 'aria-label': `${className} ${id || 'new'} as JSON`, rows: 14 });
  let extra = null;
  if (id) {
    const obj = await ok('GET', `/1.1/classes/${encodeURIComponent(className)}/${id}?returnACL=true`);
    for (const k of ['objectId', 'createdAt', 'updatedAt']) delete obj[k];
    editor.value = pretty(obj);
    if (className === '_User') {
      const sessions = await ok('GET', `/__mock/sessions?user=${encodeURIComponent(id)}`);
      extra = el('p', {}, `Sessions: ${sessions.results.length} active`, ...sessions.results.map((t) => el('code', {}, ` ${t.slice(0, 6)}…`)));
    }
    if (className === '_Role') {
      const where = JSON.stringify({ $relatedTo: { object: { __type: 'Pointer', className: '_Role', objectId: id }, key: 'users' } });
      const members = await ok('GET', `/1.1/classes/_User?where=${encodeURIComponent(where)}&keys=username`);
      extra = el('p', {}, 'Members: ', ...(members.results || []).map((u) => el('button', { type: 'button', class: 'link', onclick: () => openObject('_User', u.objectId) }, `${u.username} `)));
    }
  } else {
    editor.value = pretty({ ACL: { '*': { read: true, write: true } } });
  }
  const save = guard(async () => {
    const body = parseJson(editor.value, 'the row');
    if (id) await ok('PUT', `/1.1/classes/${encodeURIComponent(className)}/${id}`, body);
    else await ok('POST', `/1.1/classes/${encodeURIComponent(className)}`, body);
    say('Saved.');
    await renderClass();
  });
  const remove = guard(async () => {
    if (!confirm(`Delete ${className} ${id}?`)) return;
    await ok('DELETE', `/1.1/classes/${encodeURIComponent(className)}/${id}`);
    say('Deleted.');
    await renderClass();
  });
  box.replaceChildren(el('div', { class: 'card' }, el('h3', {}, id ? `${className} ${id}` : `New ${className}`), extra, editor,
    el('div', { class: 'row' }, el('button', { type: 'button', onclick: save }, id ? 'Save' : 'Create'),
      id ? el('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete') : null)));
  editor.focus();
}

// ---- cloud code ----------------------------------------------------------------------

function answerView(r) {
  return el('p', {}, el('span', { class: r.status < 400 ? 'ok' : 'bad' }, `HTTP ${r.status}`), ` in ${r.ms.toFixed(1)} ms`, el('pre', {}, pretty(r.body)));
}

async function loadCloud() {
  const meta = await ok('GET', '/__mock/cloud');
  const fns = document.getElementById('functions');
  const hooks = document.getElementById('hooks');
  if (!meta.attached) { fns.replaceChildren(el('p', { class: 'muted' }, 'No cloud code is attached to this app.')); hooks.replaceChildren(); return; }
  fns.replaceChildren(...meta.functions.map((name) => {
    const params = el('textarea', { 'aria-label': `${name} params`, rows: 3 }); params.value = '{}';
    const as = el('select', { 'aria-label': 'Run as' }, el('option', { value: 'master' }, 'the master key'), el('option', { value: 'anonymous' }, 'nobody signed in'), el('option', { value: 'session' }, 'a session token'));
    const token = el('input', { placeholder: 'session token', 'aria-label': 'session token' });
    const out = el('div');
    const run = guard(async () => {
      const who = as.value === 'session' ? { session: token.value } : as.value === 'anonymous' ? { anonymous: true } : undefined;
      out.replaceChildren(answerView(await api('POST', `/1.1/functions/${encodeURIComponent(name)}`, parseJson(params.value, 'params'), who)));
    });
    return el('details', { class: 'card' }, el('summary', {}, name), params, el('div', { class: 'row' }, el('label', {}, 'Run as', as), token, el('button', { type: 'button', onclick: run }, 'Run')), out);
  }));
  hooks.replaceChildren(...meta.hooks.map((h) => {
    const obj = el('textarea', { 'aria-label': `${h.class} ${h.hook} object`, rows: 4 }); obj.value = '{}';
    const out = el('div');
    const call = guard(async () => {
      const r = await ok('POST', '/__mock/cloud/hook', { class: h.class, hook: h.hook, object: parseJson(obj.value, 'the object') });
      out.replaceChildren(answerView(r));
    });
    return el('details', { class: 'card' }, el('summary', {}, `${h.class} · ${h.hook}`), obj, el('button', { type: 'button', onclick: call }, 'Call'), out);
  }));
}

// ---- traces --------------------------------------------------------------------------

function hookTree(hook) {
  const took = hook.duration_us === undefined ? '' : ` · ${(hook.duration_us / 1000).toFixed(1)} ms`;
  const result = hook.skipped ? `skipped: ${hook.skipped}` : hook.error ? `error ${JSON.stringify(hook.error)}` : hook.running ? 'running' : 'ok';
  return el('details', { class: 'tree' }, el('summary', {}, `${hook.class} ${hook.hook} — `, el('span', { class: hook.error ? 'bad' : 'ok' }, result), took),
    hook.input !== undefined ? el('div', {}, 'input', el('pre', {}, pretty(hook.input))) : null,
    hook.output !== undefined ? el('div', {}, 'output', el('pre', {}, pretty(hook.output))) : null,
    (hook.requests || []).map(requestTree));
}

function requestTree(t) {
  const code = t.error && typeof t.error === 'object' ? t.error.code : undefined;
  return el('details', { class: 'tree' }, el('summary', {}, `${t.request} → `, el('span', { class: t.status >= 400 ? 'bad' : 'ok' }, String(t.status)), code === undefined ? '' : ` code ${code}`),
    t.body !== undefined ? el('pre', {}, pretty(t.body)) : null,
    t.error !== undefined ? el('pre', { class: 'bad' }, pretty(t.error)) : null,
    (t.hooks || []).map(hookTree));
}

async function loadTraces() {
  const traces = (await ok('GET', '/__mock/traces')).results || [];
  const text = document.getElementById('trace-text').value.trim().toLowerCase();
  const status = document.getElementById('trace-status').value.trim();
  const code = document.getElementById('trace-code').value.trim();
  const keep = (t) => (!text || JSON.stringify([t.request, (t.hooks || []).map((h) => h.class)]).toLowerCase().includes(text))
    && (!status || String(t.status) === status)
    && (!code || String(t.error && t.error.code) === code);
  const list = document.getElementById('traces');
  list.replaceChildren(...traces.filter(keep).reverse().map((t) => el('li', {}, requestTree(t))));
}

function wireTraces() {
  document.getElementById('trace-filter').onchange = guard(loadTraces);
  document.getElementById('trace-text').oninput = guard(loadTraces);
  document.getElementById('trace-clear').onclick = guard(async () => { await ok('DELETE', '/__mock/traces'); await loadTraces(); });
  state.live = setInterval(() => {
    const tab = document.getElementById('tab-traces');
    if (!tab.hidden && document.getElementById('trace-live').checked && !document.querySelector('#traces details[open]')) guard(loadTraces)();
  }, 2000);
}

// ---- outbox --------------------------------------------------------------------------

async function loadOutbox() {
  const r = await ok('GET', '/__mock/outbox');
  document.querySelector('#outbox tbody').replaceChildren(...(r.results || []).map((m) => el('tr', {},
    el('td', {}, new Date(m.sentAt).toISOString()), el('td', {}, m.channel), el('td', {}, m.purpose), el('td', {}, m.to),
    el('td', {}, m.subject ? `${m.subject}: ${m.text}` : m.text), el('td', {}, m.code || (m.link ? el('a', { href: m.link }, m.link) : '')))));
}

function wireOutbox() {
  document.getElementById('outbox-refresh').onclick = guard(loadOutbox);
  document.getElementById('outbox-clear').onclick = guard(async () => { await ok('DELETE', '/__mock/outbox'); await loadOutbox(); });
}

// ---- control -------------------------------------------------------------------------

async function loadClock() {
  const c = await ok('GET', '/__mock/clock');
  document.getElementById('clock-now').textContent = `The app's clock shows ${c.now}${c.frozen ? ' (frozen)' : ''}.`;
}

function wireControl() {
  document.getElementById('reset').onclick = guard(async () => {
    if (!confirm('Reset the app? Everything written since it started is lost.')) return;
    await ok('POST', '/__mock/reset');
    say('The app was reset.');
  });
  const name = () => document.getElementById('snapshot-name').value.trim();
  document.getElementById('snapshot-form').onsubmit = (e) => { e.preventDefault(); guard(async () => { await ok('POST', '/__mock/snapshots', { name: name() }); say(`Snapshot "${name()}" taken.`); })(); };
  document.getElementById('snapshot-restore').onclick = guard(async () => { await ok('POST', `/__mock/snapshots/${encodeURIComponent(name())}/restore`); say(`Restored "${name()}".`); });
  document.getElementById('export-form').onsubmit = (e) => {
    e.preventDefault();
    guard(async () => {
      const r = await ok('POST', '/__mock/export', { dir: document.getElementById('export-dir').value.trim() });
      say(`Exported ${r.classes} classes, ${r.rows} rows to ${r.dir}.`);
    })();
  };
  document.getElementById('load-form').onsubmit = (e) => {
    e.preventDefault();
    guard(async () => {
      if (!confirm('Replace everything the app holds by that folder?')) return;
      const r = await ok('POST', '/__mock/load', { dir: document.getElementById('load-dir').value.trim() });
      say(`Loaded ${r.classes} classes from ${r.dir}.`);
    })();
  };
  for (const b of document.querySelectorAll('[data-clock]')) b.onclick = guard(async () => { await ok('POST', '/__mock/clock', JSON.parse(b.dataset.clock)); await loadClock(); });
}

start().catch((e) => say(`The console could not start: ${e.message}`, true));
