'use strict';
// The cloud app that the official Node engine (leanengine, pinned in package.json) serves
// for this interop check. Every hook records what it received, so that check.mjs can
// assert the shape of the payloads lc-mock sends:
//   - beforeSave writes its record into the object itself (field `beforeSavePayload`);
//   - every other hook writes one `InteropLog` row (see `logHook`).
// Hooks and functions reach storage with the engine's own keys (app key + hook key), at
// the URL in LEANCLOUD_API_SERVER, i.e. lc-mock itself.

const AV = require('leanengine');

const CLASS = 'Interop';
const LOG = 'InteropLog';
const NOTE = 'InteropNote';
const TITLE_MAX = 12;

/**
 * What a hook was sent. The object's keys come from the raw request body (the engine
 * decodes a copy of it). The user is read from `request.user`, which the engine built
 * from the body's `user`: building it consumes objectId, createdAt, updatedAt and
 * sessionToken from the raw body, so the body itself no longer shows them.
 */
function payloadOf(request) {
  const body = (request.expressReq && request.expressReq.body) || {};
  const object = body.object || {};
  const user = request.user || null;
  return {
    objectKeys: Object.keys(object).sort(),
    objectId: typeof object.objectId === 'string' ? object.objectId : null,
    updatedKeys: Array.isArray(object._updatedKeys) ? object._updatedKeys : null,
    user: user ? (user.getUsername() || '(no username)') : null,
    userId: user ? user.id || null : null,
    userHasSessionToken: !!(user && user.getSessionToken()),
  };
}

/** One `InteropLog` row per hook call (InteropLog has no hooks, so this cannot loop). */
async function logHook(event, request) {
  const p = payloadOf(request);
  const row = new AV.Object(LOG);
  row.set({
    event,
    targetId: p.objectId || request.object.id || '(none)',
    run: request.object.get('run') || '(none)',
    objectKeys: p.objectKeys,
    hasUser: p.user !== null,
    userHasSessionToken: p.userHasSessionToken,
  });
  if (p.updatedKeys) row.set('updatedKeys', p.updatedKeys);
  if (p.user !== null) row.set({ username: p.user, userId: p.userId });
  await row.save();
}

AV.Cloud.beforeSave(CLASS, async (request) => {
  const object = request.object;
  const title = object.get('title');
  if (typeof title !== 'string' || title.trim() === '') {
    throw new AV.Cloud.Error('title is required');
  }
  const trimmed = title.trim();
  object.set('title', trimmed.length > TITLE_MAX ? `${trimmed.slice(0, TITLE_MAX)}…` : trimmed);
  object.set('byBeforeSave', true);
  const p = payloadOf(request);
  object.set('beforeSavePayload', {
    objectKeys: p.objectKeys,
    hadObjectId: p.objectId !== null,
    user: p.user,
    userHasSessionToken: p.userHasSessionToken,
    userId: p.userId,
  });
});

AV.Cloud.afterSave(CLASS, async (request) => {
  await logHook('afterSave', request);
  // A fresh object is not marked by the engine: its save must disable both kinds of
  // hooks itself, or lc-mock would run beforeUpdate/afterUpdate for it.
  const again = AV.Object.createWithoutData(CLASS, request.object.id);
  again.increment('afterSaveCount', 1);
  again.disableBeforeHook();
  again.disableAfterHook();
  await again.save();
});

AV.Cloud.beforeUpdate(CLASS, async (request) => {
  await logHook('beforeUpdate', request);
  const updated = request.object.updatedKeys || [];
  if (updated.includes('owner')) {
    throw new AV.Cloud.Error('owner may not be changed');
  }
});

AV.Cloud.afterUpdate(CLASS, async (request) => {
  await logHook('afterUpdate', request);
  // request.object comes marked with disableAfterHook() by the engine; saving it must
  // also disable the before-hooks. Bounded, in case the emulator ignored the marks.
  const object = request.object;
  if ((object.get('afterUpdateCount') || 0) < 5) {
    object.increment('afterUpdateCount', 1);
    object.disableBeforeHook();
    await object.save();
  }
});

AV.Cloud.beforeDelete(CLASS, async (request) => {
  await logHook('beforeDelete', request);
  if (request.object.get('locked') === true) {
    throw new AV.Cloud.Error('locked objects cannot be deleted');
  }
});

AV.Cloud.afterDelete(CLASS, async (request) => {
  await logHook('afterDelete', request);
});

// The caller, as the engine resolved it (GET /1.1/users/me on lc-mock with the session).
AV.Cloud.define('whoami', async (request) => {
  const user = request.currentUser;
  return {
    username: user ? user.getUsername() : null,
    objectId: user ? user.id : null,
    hasSessionToken: !!request.sessionToken,
  };
});

// Saves one object through storage as the caller: an InteropNote (no hooks) or an
// Interop (lc-mock runs this app's hooks for it, with the caller as `user`).
AV.Cloud.define('saveThroughStorage', async (request) => {
  const { className, fields } = request.params || {};
  if (className !== NOTE && className !== CLASS) {
    throw new AV.Cloud.Error(`className must be ${NOTE} or ${CLASS}`);
  }
  const object = new AV.Object(className);
  object.set(fields || {});
  if (request.currentUser) object.set('savedBy', request.currentUser.getUsername());
  await object.save(null, request.sessionToken ? { sessionToken: request.sessionToken } : {});
  return { className, objectId: object.id };
});

module.exports = AV;
