// Interop checks: the official Node cloud engine (leanengine, serving cloud.js) as the
// remote engine behind `lc-mock serve --engine URL`. Every request goes to lc-mock over
// plain HTTP (Node's global fetch), as a client app would send it; lc-mock runs the
// engine's class hooks around its writes and forwards cloud functions to it.
//
// Environment:
//   LC_SERVER_URL   base URL of lc-mock, e.g. http://127.0.0.1:8080 (required)
//   LC_ENGINE_URL   base URL of the engine, e.g. http://127.0.0.1:3000 (required)
//   LC_APP_ID       app id      (default lc-mock-app)
//   LC_APP_KEY      app key     (default lc-mock-key)
//   LC_MASTER_KEY   master key  (default lc-mock-master)
//   LC_CHECKS       optional regex: report only checks whose name matches (the others
//                   still run quietly, uncounted, since later checks use what they made)
//   LC_CHECK_TRACE  set to 1 to print every HTTP exchange, not only those of failed checks
//
// After-hooks run off the response path: before looking for their effects a check calls
// lc-mock's `POST /__mock/idle` (master key), which answers once every after-hook has
// finished. Nothing here sleeps.
//
// Output: one `ok - <name>` / `not ok - <name>: <reason>` line per check (a failed check is
// followed by `#` lines with the HTTP exchanges it made), then `N passed, M failed`.
// Exit status 1 if any check failed.

import { isDeepStrictEqual, inspect } from 'node:util';

const SERVER_URL = (process.env.LC_SERVER_URL || '').replace(/\/+$/, '');
const ENGINE_URL = (process.env.LC_ENGINE_URL || '').replace(/\/+$/, '');
const APP_ID = process.env.LC_APP_ID || 'lc-mock-app';
const APP_KEY = process.env.LC_APP_KEY || 'lc-mock-key';
const MASTER_KEY = process.env.LC_MASTER_KEY || 'lc-mock-master';
const ONLY = process.env.LC_CHECKS ? new RegExp(process.env.LC_CHECKS) : null;
const TRACE = process.env.LC_CHECK_TRACE === '1';
const CHECK_TIMEOUT_MS = 30000;
const REQUEST_TIMEOUT_MS = 20000;

for (const [name, url] of [['LC_SERVER_URL', SERVER_URL], ['LC_ENGINE_URL', ENGINE_URL]]) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) {
    console.error(`check.mjs: ${name} must be a base URL like http://127.0.0.1:8080 (got ${JSON.stringify(process.env[name])})`);
    process.exit(2);
  }
}

const CLASS = 'Interop';
const LOG = 'InteropLog';
const NOTE = 'InteropNote';
const VALIDATION = 'Cloud Code validation failed. Error detail : ';
const PROTECTED_MSG = 'owner may not be changed';
const TITLE_MSG = 'title is required';
const LOCKED_MSG = 'locked objects cannot be deleted';

// ---------------------------------------------------------------------------------------
// HTTP, with every exchange recorded for the report

const exchanges = []; // {method, url, reqBody, status, resBody}

function clip(v, n = 900) {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s;
}

/**
 * One request. `auth`: 'app' (X-LC-Key: app key), 'master' (X-LC-Key: master,master) or
 * 'none'. `session`: an X-LC-Session token. `base`: lc-mock unless told.
 */
async function http(method, path, { body, auth = 'app', session, base = SERVER_URL } = {}) {
  const headers = {};
  if (auth === 'app' || auth === 'master') {
    headers['X-LC-Id'] = APP_ID;
    headers['X-LC-Key'] = auth === 'master' ? `${MASTER_KEY},master` : APP_KEY;
  }
  if (session) headers['X-LC-Session'] = session;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const where = base === SERVER_URL ? '' : '[engine] ';
  const entry = { method, url: `${where}${path}`, auth, session: !!session, reqBody: body, status: null, resBody: null };
  exchanges.push(entry);
  let res;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    entry.status = `transport error: ${e && (e.cause ? `${e.message} (${e.cause.message || e.cause.code})` : e.message)}`;
    throw new CheckFailure(`${method} ${entry.url}: ${entry.status}`);
  }
  const text = await res.text();
  let json;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = text;
  }
  entry.status = res.status;
  entry.resBody = json;
  return { status: res.status, body: json };
}

function formatExchange(x) {
  const who = `${x.auth}${x.session ? '+session' : ''}`;
  const req = x.reqBody === undefined ? '' : ` ${clip(x.reqBody)}`;
  return [`#   > ${x.method} ${x.url} (${who})${req}`, `#   < ${x.status} ${clip(x.resBody)}`];
}

// ---------------------------------------------------------------------------------------
// Assertion helpers

class CheckFailure extends Error {}

function show(v) {
  return inspect(v, { depth: 6, breakLength: Infinity });
}

function fail(msg) {
  throw new CheckFailure(msg);
}

function eq(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function truthy(cond, what) {
  if (!cond) fail(what);
}

function expectStatus(res, status, what) {
  if (res.status !== status) fail(`${what}: expected HTTP ${status}, got ${res.status} ${clip(res.body, 400)}`);
  return res.body;
}

/** A hook's rejection as the client sees it: 4xx, code 142 and the hook's message. */
function expectRejected(res, message, what) {
  const want = { code: 142, error: `${VALIDATION}${message}` };
  if (typeof res.status !== 'number' || res.status < 400 || res.status >= 500) {
    fail(`${what}: expected a 4xx rejection ${show(want)}, got HTTP ${res.status} ${clip(res.body, 400)}`);
  }
  eq(res.body, want, `${what}: body of the rejection (HTTP ${res.status})`);
}

/**
 * The master-key GET of one object: its stored fields, or null when it does not exist
 * (LeanCloud answers a missing objectId with 200 {}).
 */
async function stored(className, id) {
  const res = await http('GET', `/1.1/classes/${className}/${id}`, { auth: 'master' });
  const body = expectStatus(res, 200, `GET ${className}/${id}`);
  return body && typeof body === 'object' && Object.keys(body).length === 0 ? null : body;
}

async function query(className, where) {
  const q = new URLSearchParams({ where: JSON.stringify(where), limit: '1000', order: 'createdAt' });
  const res = await http('GET', `/1.1/classes/${className}?${q}`, { auth: 'master' });
  return expectStatus(res, 200, `query ${className} ${JSON.stringify(where)}`).results;
}

/** Waits (through lc-mock) until every after-hook lc-mock started has finished. */
async function idle() {
  const res = await http('POST', '/__mock/idle', { auth: 'master', body: {} });
  if (res.status !== 200) {
    fail(`POST /__mock/idle (master key) answered HTTP ${res.status} ${clip(res.body, 300)}; the after-hooks' effects cannot be awaited`);
  }
}

/** The InteropLog rows about one object, grouped by hook name. */
async function logsFor(id) {
  const rows = await query(LOG, { targetId: id });
  const by = {};
  for (const r of rows) (by[r.event] ||= []).push(r);
  return by;
}

function count(by, event) {
  return (by[event] || []).length;
}

function hasKeys(keys, wanted, what) {
  const missing = wanted.filter((k) => !keys.includes(k));
  if (missing.length > 0) fail(`${what}: payload keys ${show(keys)} lack ${show(missing)}`);
}

function lacksKeys(keys, unwanted, what) {
  const present = unwanted.filter((k) => keys.includes(k));
  if (present.length > 0) fail(`${what}: payload keys ${show(keys)} should not include ${show(present)}`);
}

const HOOK_ONLY_FIELDS = ['__ignore_hooks', '_updatedKeys', '__before', '__after', 'className', '__type'];

function noHookOnlyFields(object, what) {
  lacksKeys(Object.keys(object), HOOK_ONLY_FIELDS, `${what} (stored fields)`);
}

// ---------------------------------------------------------------------------------------
// Checks

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const USERNAME = `interop_${RUN}`;
const PASSWORD = `pw-${RUN}`;

const checks = [];
function check(name, fn) {
  checks.push({ name, fn });
}

const state = {};
function need(key, what) {
  if (state[key] === undefined) fail(`needs ${what}, which an earlier check did not produce`);
  return state[key];
}

/** Creates an Interop object through lc-mock and returns its id. */
async function createInterop(fields, { session, what = 'create' } = {}) {
  const res = await http('POST', `/1.1/classes/${CLASS}`, { body: { run: RUN, ...fields }, session });
  const body = expectStatus(res, 201, what);
  truthy(body && typeof body.objectId === 'string', `${what}: no objectId in ${clip(body)}`);
  return body.objectId;
}

function truncatedTitle(title) {
  const t = title.trim();
  return t.length > 12 ? `${t.slice(0, 12)}…` : t;
}

// -- the engine itself

check('engine answers GET /__engine/1/ping', async () => {
  const res = await http('GET', '/__engine/1/ping', { auth: 'none', base: ENGINE_URL });
  const body = expectStatus(res, 200, 'ping');
  eq(body.version, '3.8.0', 'leanengine version in ping');
  truthy(/^nodejs-v\d+/.test(body.runtime), `runtime in ping: ${show(body.runtime)}`);
});

check("engine lists the app's hooks and functions (master key only)", async () => {
  const res = await http('GET', '/1.1/functions/_ops/metadatas', { auth: 'master', base: ENGINE_URL });
  const body = expectStatus(res, 200, 'metadatas with the master key');
  const names = body.result;
  hasKeys(names, [
    `__before_save_for_${CLASS}`, `__after_save_for_${CLASS}`,
    `__before_update_for_${CLASS}`, `__after_update_for_${CLASS}`,
    `__before_delete_for_${CLASS}`, `__after_delete_for_${CLASS}`,
    'whoami', 'saveThroughStorage',
  ], 'metadatas');
  const denied = await http('GET', '/1.1/functions/_ops/metadatas', { auth: 'app', base: ENGINE_URL });
  eq([denied.status, denied.body], [401, { code: 401, error: 'Unauthorized.' }], 'metadatas with the app key');
});

// -- users and functions through lc-mock

check('sign up a user through lc-mock', async () => {
  const res = await http('POST', '/1.1/users', { body: { username: USERNAME, password: PASSWORD } });
  const body = expectStatus(res, 201, 'sign up');
  truthy(typeof body.sessionToken === 'string' && body.sessionToken, `no sessionToken in ${clip(body)}`);
  state.token = body.sessionToken;
  state.userId = body.objectId;
});

check('function whoami through lc-mock returns the session user (engine calls /users/me)', async () => {
  const token = need('token', 'a session');
  const res = await http('POST', '/1.1/functions/whoami', { body: {}, session: token });
  const body = expectStatus(res, 200, 'whoami with a session');
  eq(body, { result: { username: USERNAME, objectId: state.userId, hasSessionToken: true } }, 'whoami answer');
});

check('function whoami without a session has no user', async () => {
  const res = await http('POST', '/1.1/functions/whoami', { body: {} });
  const body = expectStatus(res, 200, 'whoami without a session');
  eq(body, { result: { username: null, objectId: null, hasSessionToken: false } }, 'whoami answer');
});

check('function whoami with an unknown session: 401 code 211 from the engine', async () => {
  const res = await http('POST', '/1.1/functions/whoami', { body: {}, session: `no-such-session-${RUN}` });
  eq(res.status, 401, 'HTTP status');
  eq(res.body && res.body.code, 211, 'code');
  truthy(typeof res.body.error === 'string' && res.body.error.startsWith('Verify sessionToken failed, maybe login expired: '),
    `error message: ${show(res.body.error)}`);
});

check("a function's own save through storage works", async () => {
  const token = need('token', 'a session');
  const res = await http('POST', '/1.1/functions/saveThroughStorage', {
    body: { className: NOTE, fields: { text: 'from the engine', run: RUN } },
    session: token,
  });
  const body = expectStatus(res, 200, 'saveThroughStorage');
  truthy(body.result && typeof body.result.objectId === 'string', `no objectId in ${clip(body)}`);
  const note = await stored(NOTE, body.result.objectId);
  truthy(note, `the note ${body.result.objectId} the function saved is not in storage`);
  eq([note.text, note.run, note.savedBy], ['from the engine', RUN, USERNAME], 'text, run and savedBy of the note');
});

// -- create: beforeSave, afterSave

check('beforeSave changes are stored; its payload has no objectId and has the user', async () => {
  const token = need('token', 'a session');
  const title = '   A title that is far too long for the field   ';
  const id = await createInterop({ title, owner: USERNAME, n: 1 }, { session: token });
  state.main = id;
  const o = await stored(CLASS, id);
  truthy(o, `object ${id} not stored`);
  eq(o.title, truncatedTitle(title), 'title after beforeSave (trimmed, truncated)');
  eq(o.byBeforeSave, true, 'field added by beforeSave');
  eq([o.owner, o.n, o.run], [USERNAME, 1, RUN], 'fields the client sent');
  const p = o.beforeSavePayload;
  truthy(p && Array.isArray(p.objectKeys), `beforeSavePayload not recorded: ${show(p)}`);
  hasKeys(p.objectKeys, ['n', 'owner', 'run', 'title'], 'beforeSave payload');
  lacksKeys(p.objectKeys, ['objectId', 'createdAt', 'updatedAt', '_updatedKeys', '__ignore_hooks'], 'beforeSave payload');
  eq(p.hadObjectId, false, 'beforeSave payload had an objectId');
  eq([p.user, p.userId, p.userHasSessionToken], [USERNAME, state.userId, true], 'beforeSave payload user (username, objectId, has sessionToken)');
  noHookOnlyFields(o, 'created object');
});

check('beforeSave without a session: no user in the payload', async () => {
  const id = await createInterop({ title: 'anonymous' });
  const o = await stored(CLASS, id);
  truthy(o, `object ${id} not stored`);
  eq(o.byBeforeSave, true, 'field added by beforeSave');
  eq(o.beforeSavePayload && o.beforeSavePayload.user, null, 'beforeSave payload user');
  state.anonymous = id;
});

check(`beforeSave rejection reaches the client as 142 "${VALIDATION}<message>"`, async () => {
  const token = need('token', 'a session');
  const res = await http('POST', `/1.1/classes/${CLASS}`, { body: { run: RUN, n: 2 }, session: token });
  expectRejected(res, TITLE_MSG, 'create without title');
  eq(await query(CLASS, { run: RUN, n: 2 }), [], 'objects stored by the rejected create');
});

check('afterSave ran (after /__mock/idle): log row with the stored object, own save fired no hooks', async () => {
  const id = need('main', 'the created object');
  await idle();
  const by = await logsFor(id);
  eq(count(by, 'afterSave'), 1, 'afterSave log rows');
  const row = by.afterSave[0];
  hasKeys(row.objectKeys, ['objectId', 'createdAt', 'updatedAt', 'title', 'owner', 'byBeforeSave'], 'afterSave payload');
  lacksKeys(row.objectKeys, ['_updatedKeys', '__ignore_hooks'], 'afterSave payload');
  eq([row.hasUser, row.username, row.userId, row.userHasSessionToken], [true, USERNAME, state.userId, true],
    'afterSave payload user (present, username, objectId, has sessionToken)');
  const o = await stored(CLASS, id);
  eq(o.afterSaveCount, 1, "afterSave's own save (increment, hooks disabled)");
  eq([count(by, 'beforeUpdate'), count(by, 'afterUpdate')], [0, 0],
    "update hooks fired by afterSave's own save (it disabled them)");
  noHookOnlyFields(o, 'object after afterSave');
  const anon = await logsFor(need('anonymous', 'the object created without a session'));
  eq(count(anon, 'afterSave'), 1, 'afterSave log rows of the object created without a session');
  eq(anon.afterSave[0].hasUser, false, 'afterSave payload has a user without a session');
});

// -- update: beforeUpdate, afterUpdate

check('update: beforeUpdate gets _updatedKeys; afterUpdate runs and its own save fires no hooks', async () => {
  const id = need('main', 'the created object');
  const token = need('token', 'a session');
  await idle();
  const res = await http('PUT', `/1.1/classes/${CLASS}/${id}`, { body: { title: 'renamed', n: { __op: 'Increment', amount: 1 } }, session: token });
  expectStatus(res, 200, 'update');
  await idle();
  const by = await logsFor(id);
  eq(count(by, 'beforeUpdate'), 1, 'beforeUpdate log rows');
  const before = by.beforeUpdate[0];
  eq([...(before.updatedKeys || [])].sort(), ['n', 'title'], 'beforeUpdate payload _updatedKeys');
  hasKeys(before.objectKeys, ['objectId', '_updatedKeys', 'title', 'n'], 'beforeUpdate payload');
  eq([before.hasUser, before.username], [true, USERNAME], 'beforeUpdate payload user');
  eq(count(by, 'afterUpdate'), 1, 'afterUpdate log rows (its own save disabled the hooks)');
  const after = by.afterUpdate[0];
  eq([...(after.updatedKeys || [])].sort(), ['n', 'title'], 'afterUpdate payload _updatedKeys');
  hasKeys(after.objectKeys, ['objectId', '_updatedKeys'], 'afterUpdate payload');
  eq([after.hasUser, after.username], [true, USERNAME], 'afterUpdate payload user');
  const o = await stored(CLASS, id);
  eq([o.title, o.n], ['renamed', 2], 'title and n after the update (beforeSave does not run on updates)');
  eq(o.afterUpdateCount, 1, "afterUpdate's own save (increment)");
  noHookOnlyFields(o, 'object after update');
});

check('beforeUpdate rejection: a protected field is not changed (142)', async () => {
  const id = need('main', 'the created object');
  const token = need('token', 'a session');
  const res = await http('PUT', `/1.1/classes/${CLASS}/${id}`, { body: { owner: 'mallory' }, session: token });
  expectRejected(res, PROTECTED_MSG, 'update of owner');
  const o = await stored(CLASS, id);
  eq(o.owner, USERNAME, 'owner after the rejected update');
  await idle();
  const by = await logsFor(id);
  eq([count(by, 'beforeUpdate'), count(by, 'afterUpdate')], [2, 1], 'beforeUpdate / afterUpdate log rows (no afterUpdate for a rejected update)');
  truthy(by.beforeUpdate.some((r) => isDeepStrictEqual(r.updatedKeys, ['owner'])),
    `no beforeUpdate payload with _updatedKeys ['owner']: ${show(by.beforeUpdate.map((r) => r.updatedKeys))}`);
});

// -- delete: beforeDelete, afterDelete

check('beforeDelete rejection keeps a flagged object (142)', async () => {
  const token = need('token', 'a session');
  const id = await createInterop({ title: 'locked one', locked: true }, { session: token });
  state.locked = id;
  await idle();
  const res = await http('DELETE', `/1.1/classes/${CLASS}/${id}`, { session: token });
  expectRejected(res, LOCKED_MSG, 'delete of a locked object');
  truthy(await stored(CLASS, id), 'the locked object was deleted');
  const by = await logsFor(id);
  eq(count(by, 'beforeDelete'), 1, 'beforeDelete log rows');
  hasKeys(by.beforeDelete[0].objectKeys, ['objectId', 'locked'], 'beforeDelete payload (the stored object)');
  await idle();
  eq(count(await logsFor(id), 'afterDelete'), 0, 'afterDelete log rows for a rejected delete');
});

check('delete runs beforeDelete and afterDelete', async () => {
  const token = need('token', 'a session');
  const id = await createInterop({ title: 'to delete' }, { session: token });
  await idle();
  const res = await http('DELETE', `/1.1/classes/${CLASS}/${id}`, { session: token });
  eq([res.status, res.body], [200, {}], 'delete answer');
  eq(await stored(CLASS, id), null, 'the object after delete');
  await idle();
  const by = await logsFor(id);
  eq([count(by, 'beforeDelete'), count(by, 'afterDelete')], [1, 1], 'beforeDelete / afterDelete log rows');
  hasKeys(by.beforeDelete[0].objectKeys, ['objectId', 'title'], 'beforeDelete payload (the stored object)');
  hasKeys(by.afterDelete[0].objectKeys, ['objectId', 'title'], 'afterDelete payload (the deleted object)');
  eq([by.afterDelete[0].hasUser, by.afterDelete[0].username], [true, USERNAME], 'afterDelete payload user');
});

// -- batch

check('batch: hooks fire per item, a rejection fails only its item', async () => {
  const token = need('token', 'a session');
  const main = need('main', 'the created object');
  const locked = need('locked', 'the locked object');
  const doomed = await createInterop({ title: 'batch doomed' }, { session: token });
  await idle();
  const title = '  created in a batch with a long title ';
  const requests = [
    { method: 'POST', path: `/1.1/classes/${CLASS}`, body: { run: RUN, title, tag: 'b0' } },
    { method: 'POST', path: `/1.1/classes/${CLASS}`, body: { run: RUN, tag: 'b1' } },
    { method: 'PUT', path: `/1.1/classes/${CLASS}/${main}`, body: { owner: 'mallory' } },
    { method: 'PUT', path: `/1.1/classes/${CLASS}/${main}`, body: { title: 'batch-renamed' } },
    { method: 'DELETE', path: `/1.1/classes/${CLASS}/${locked}` },
    { method: 'DELETE', path: `/1.1/classes/${CLASS}/${doomed}` },
  ];
  const res = await http('POST', '/1.1/batch', { body: { requests }, session: token });
  const items = expectStatus(res, 200, 'batch');
  truthy(Array.isArray(items) && items.length === requests.length, `batch answer is not ${requests.length} items: ${clip(items)}`);
  const created = items[0].success;
  truthy(created && typeof created.objectId === 'string', `item 0 (create): ${show(items[0])}`);
  eq(items[1], { error: { code: 142, error: `${VALIDATION}${TITLE_MSG}` } }, 'item 1 (create without title)');
  eq(items[2], { error: { code: 142, error: `${VALIDATION}${PROTECTED_MSG}` } }, 'item 2 (update of owner)');
  truthy(items[3].success && items[3].success.updatedAt, `item 3 (update of title): ${show(items[3])}`);
  eq(items[4], { error: { code: 142, error: `${VALIDATION}${LOCKED_MSG}` } }, 'item 4 (delete of the locked object)');
  eq(items[5], { success: {} }, 'item 5 (delete)');

  const o = await stored(CLASS, created.objectId);
  truthy(o, 'the object created in the batch is not stored');
  eq([o.title, o.byBeforeSave, o.beforeSavePayload && o.beforeSavePayload.user], [truncatedTitle(title), true, USERNAME],
    'batch-created object: title, byBeforeSave, beforeSave payload user');
  eq(await query(CLASS, { run: RUN, tag: 'b1' }), [], 'objects stored by the rejected batch create');
  const m = await stored(CLASS, main);
  eq([m.owner, m.title], [USERNAME, 'batch-renamed'], 'owner and title after the batch updates');
  truthy(await stored(CLASS, locked), 'the locked object was deleted by the batch');
  eq(await stored(CLASS, doomed), null, 'the object deleted by the batch');

  await idle();
  const c = await logsFor(created.objectId);
  eq(count(c, 'afterSave'), 1, 'afterSave log rows of the batch-created object');
  eq((await stored(CLASS, created.objectId)).afterSaveCount, 1, "afterSave's own save for the batch-created object");
  const mb = await logsFor(main);
  eq([count(mb, 'beforeUpdate'), count(mb, 'afterUpdate')], [4, 2], 'beforeUpdate / afterUpdate log rows of the updated object');
  truthy(mb.afterUpdate.some((r) => isDeepStrictEqual(r.updatedKeys, ['title'])),
    `no afterUpdate payload with _updatedKeys ['title'] (the batch update): ${show(mb.afterUpdate.map((r) => r.updatedKeys))}`);
  const d = await logsFor(doomed);
  eq([count(d, 'beforeDelete'), count(d, 'afterDelete')], [1, 1], 'beforeDelete / afterDelete log rows of the deleted object');
  const l = await logsFor(locked);
  eq([count(l, 'beforeDelete'), count(l, 'afterDelete')], [2, 0], 'beforeDelete / afterDelete log rows of the locked object');
});

// -- a function that writes an object with hooks

check("a function's save of a hooked class runs the hooks with the caller as user", async () => {
  const token = need('token', 'a session');
  const title = '   saved by a cloud function, long   ';
  const res = await http('POST', '/1.1/functions/saveThroughStorage', {
    body: { className: CLASS, fields: { title, run: RUN } },
    session: token,
  });
  const body = expectStatus(res, 200, 'saveThroughStorage of an Interop');
  const id = body.result && body.result.objectId;
  truthy(typeof id === 'string', `no objectId in ${clip(body)}`);
  const o = await stored(CLASS, id);
  truthy(o, `the object ${id} is not stored`);
  eq([o.title, o.byBeforeSave, o.savedBy], [truncatedTitle(title), true, USERNAME], 'title, byBeforeSave, savedBy');
  eq([o.beforeSavePayload.user, o.beforeSavePayload.userId, o.beforeSavePayload.userHasSessionToken], [USERNAME, state.userId, true],
    'beforeSave payload user (username, objectId, has sessionToken)');
  await idle();
  eq(count(await logsFor(id), 'afterSave'), 1, 'afterSave log rows');
  eq((await stored(CLASS, id)).afterSaveCount, 1, "afterSave's own save");
});

// -- no loops, nothing stored that should not be

check('no hook loops: counters and log rows are as expected after idle', async () => {
  const main = need('main', 'the created object');
  await idle();
  const o = await stored(CLASS, main);
  eq([o.afterSaveCount, o.afterUpdateCount], [1, 2], 'afterSaveCount / afterUpdateCount of the main object');
  const by = await logsFor(main);
  eq(Object.fromEntries(Object.entries(by).map(([k, v]) => [k, v.length])), { afterSave: 1, beforeUpdate: 4, afterUpdate: 2 },
    'log rows of the main object by hook');
  for (const obj of await query(CLASS, { run: RUN })) noHookOnlyFields(obj, `object ${obj.objectId}`);
});

check('the engine contacted no host but 127.0.0.1', async () => {
  const res = await http('POST', '/1.1/functions/interopForeignConnections', { auth: 'master', body: {}, base: ENGINE_URL });
  eq(expectStatus(res, 200, 'interopForeignConnections').result, [], 'connections the engine attempted to other hosts');
});

// ---------------------------------------------------------------------------------------
// Runner

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailure(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function describeError(e) {
  if (e instanceof CheckFailure) return e.message;
  return `unexpected exception: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e)}`;
}

let passed = 0;
let failed = 0;
console.log(`# leanengine interop: lc-mock ${SERVER_URL}, engine ${ENGINE_URL} (run ${RUN}, user ${USERNAME})`);
for (const { name, fn } of checks) {
  const mark = exchanges.length;
  if (ONLY && !ONLY.test(name)) {
    try {
      await withTimeout(Promise.resolve().then(fn), CHECK_TIMEOUT_MS);
    } catch (e) {
      console.log(`# (not selected) ${name} failed: ${describeError(e).replace(/\n/g, ' ')}`);
    }
    continue;
  }
  try {
    await withTimeout(Promise.resolve().then(fn), CHECK_TIMEOUT_MS);
    passed += 1;
    console.log(`ok - ${name}`);
    if (TRACE) for (const x of exchanges.slice(mark)) console.log(formatExchange(x).join('\n'));
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}: ${describeError(e).replace(/\n/g, ' ')}`);
    const xs = exchanges.slice(mark);
    const shown = TRACE ? xs : xs.slice(-8);
    if (shown.length < xs.length) console.log(`#   (${xs.length - shown.length} earlier exchanges of this check not shown; LC_CHECK_TRACE=1 shows all)`);
    for (const x of shown) console.log(formatExchange(x).join('\n'));
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
