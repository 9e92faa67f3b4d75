'use strict';
// Starts the official Node cloud engine (leanengine) serving cloud.js, configured only by
// the engine's own environment variables, as a deployed engine would be:
//   LEANCLOUD_APP_ID, LEANCLOUD_APP_KEY, LEANCLOUD_APP_MASTER_KEY, LEANCLOUD_APP_HOOK_KEY,
//   LEANCLOUD_APP_PORT (port on 127.0.0.1), LEANCLOUD_API_SERVER (the storage server the
//   engine calls back: lc-mock).
//
// LEANCLOUD_API_SERVER is what keeps the SDK local: leanengine passes it to
// AV.setServerURLs() when it is loaded, which sets every service URL (api, engine, push,
// stats, rtm) to it and turns off the SDK's app-router lookup. Without it the SDK would
// ask a public router for the app's servers, so it is required here.
//
// Guard: every outgoing TCP connection to anything but the loopback is refused and
// recorded; the cloud function `interopForeignConnections` returns the record, so
// check.mjs can assert that the engine reached nothing but lc-mock.

const http = require('node:http');
const net = require('node:net');

const foreignConnections = [];

function isLoopback(host) {
  if (host === undefined || host === null || host === '') return true; // node's default: localhost
  const h = String(host).replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  // net.connect()/http pass one normalised [options, callback] array; direct callers pass
  // (options[, cb]), (port[, host][, cb]) or (path[, cb]).
  let options = args[0];
  if (Array.isArray(options)) options = options[0];
  let host;
  let port;
  let path;
  if (options && typeof options === 'object') {
    ({ host, port, path } = options);
  } else if (typeof options === 'number' || /^\d+$/.test(String(options))) {
    port = options;
    host = typeof args[1] === 'string' ? args[1] : undefined;
  } else {
    path = options;
  }
  if (!path && !isLoopback(host)) {
    const target = `${host}:${port}`;
    foreignConnections.push(target);
    console.error(`server.js: refused a connection to ${target} (only 127.0.0.1 is reachable)`);
    process.nextTick(() => this.destroy(new Error(`refused a connection to ${target}`)));
    return this;
  }
  return realConnect.apply(this, args);
};

const required = [
  'LEANCLOUD_APP_ID',
  'LEANCLOUD_APP_KEY',
  'LEANCLOUD_APP_MASTER_KEY',
  'LEANCLOUD_APP_HOOK_KEY',
  'LEANCLOUD_APP_PORT',
  'LEANCLOUD_API_SERVER',
];
const missing = required.filter((name) => !process.env[name]);
if (missing.length > 0) {
  console.error(`server.js: missing environment variables: ${missing.join(', ')}`);
  process.exit(2);
}
if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(process.env.LEANCLOUD_API_SERVER)) {
  console.error(`server.js: LEANCLOUD_API_SERVER must be a local http URL, got ${process.env.LEANCLOUD_API_SERVER}`);
  process.exit(2);
}

const AV = require('./cloud');

AV.init({
  appId: process.env.LEANCLOUD_APP_ID,
  appKey: process.env.LEANCLOUD_APP_KEY,
  masterKey: process.env.LEANCLOUD_APP_MASTER_KEY,
  hookKey: process.env.LEANCLOUD_APP_HOOK_KEY,
});
if (AV._appRouter) {
  console.error('server.js: the SDK created an app router despite LEANCLOUD_API_SERVER; refusing to run');
  process.exit(2);
}
const api = AV._config.serverURLs && AV._config.serverURLs.api;
if (!api || !/^http:\/\/(127\.0\.0\.1|localhost)/.test(api)) {
  console.error(`server.js: the SDK's storage URL is ${api}, not LEANCLOUD_API_SERVER; refusing to run`);
  process.exit(2);
}

AV.Cloud.define('interopForeignConnections', { internal: true, fetchUser: false }, async () => foreignConnections.slice());

const engine = AV.express();
const port = Number(process.env.LEANCLOUD_APP_PORT);
const server = http.createServer((req, res) => {
  engine(req, res, () => {
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('This is a LeanEngine application (lc-mock interop check).\n');
  });
});
server.listen(port, '127.0.0.1', () => {
  console.log(`leanengine ${require('leanengine/package.json').version} (leancloud-storage ${AV.version}) on http://127.0.0.1:${port}, storage ${api}`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
