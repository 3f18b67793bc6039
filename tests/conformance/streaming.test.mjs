// jsforce's Streaming API client (faye over CometD long polling), unmodified,
// against sfemu's /cometd/<version>: change events on /data/AccountChangeEvent,
// a PushTopic created through REST, replay from a stored replay id with the
// replay extension, and a client expired by the server (403::Unknown client ->
// the client handshakes again and resubscribes without losing events).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';

import { Sfemu, login, repo_root } from './support/sfemu.mjs';

const require = createRequire(path.join(repo_root, 'package.json'));
const { StreamingExtension } = require('jsforce/lib/api/streaming');

/// Polls `cond` until it returns a truthy value or `ms` pass (then fails with `what`).
async function until(what, cond, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/// A faye subscription as a promise (resolves once the server acknowledged it).
function subscribed(sub) {
  return new Promise((resolve, reject) => sub.then(resolve, reject));
}

describe('streaming', { timeout: 90000 }, () => {
  let emu;
  let conn;
  const clients = [];
  before(async () => {
    // Short long polls: the client's reconnect cycle runs many times during the tests.
    emu = await Sfemu.start(['--streaming-connect-timeout-ms', '1500']);
    conn = await login(emu);
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    // Until sfemu has seen the disconnects: a client still polling keeps node alive.
    await until('the clients to disconnect', async () => (await emu.control('GET', 'streaming')).clients.length === 0);
    await emu?.stop();
  });

  /// A faye client made by jsforce (kept, so that it is disconnected at the end and
  /// node can exit).
  function client() {
    const c = conn.streaming.createClient();
    clients.push(c);
    return c;
  }

  /// A faye client made by jsforce with the replay extension for `channel`.
  function replay_client(channel, replay_id) {
    const c = conn.streaming.createClient([new StreamingExtension.Replay(channel, replay_id)]);
    clients.push(c);
    return c;
  }

  let stored_replay_id; // the CREATE's replay id, replayed from below
  let account_id;

  it('delivers create, update and delete of Accounts made through REST on /data/AccountChangeEvent', async () => {
    const events = [];
    const sub = client().subscribe('/data/AccountChangeEvent', (m) => events.push(m));
    await subscribed(sub);
    const created = await conn.sobject('Account').create({ Name: 'Streamed Co', Rating: 'Warm' });
    account_id = created.id;
    await conn.sobject('Account').update({ Id: account_id, Rating: 'Hot' });
    await conn.sobject('Account').destroy(account_id);
    await until('three change events', () => events.length >= 3);
    assert.deepEqual(
      events.map((e) => e.payload.ChangeEventHeader.changeType),
      ['CREATE', 'UPDATE', 'DELETE'],
    );
    for (const e of events) {
      assert.deepEqual(e.payload.ChangeEventHeader.recordIds, [account_id]);
      assert.equal(e.payload.ChangeEventHeader.entityName, 'Account');
      assert.equal(typeof e.event.replayId, 'number');
      assert.equal(typeof e.schema, 'string');
    }
    assert.equal(events[0].payload.Name, 'Streamed Co');
    assert.equal(events[1].payload.Rating, 'Hot');
    assert.ok(events[1].payload.ChangeEventHeader.changedFields.includes('Rating'));
    assert.ok(events[0].event.replayId < events[1].event.replayId && events[1].event.replayId < events[2].event.replayId);
    stored_replay_id = events[0].event.replayId;
    sub.cancel();
  });

  it('replays the events after a stored replay id, and refuses an expired one', async () => {
    assert.ok(stored_replay_id, 'needs the first test');
    const events = [];
    const replaying = replay_client('/data/AccountChangeEvent', stored_replay_id);
    await subscribed(replaying.subscribe('/data/AccountChangeEvent', (m) => events.push(m)));
    await until('two replayed events', () => events.length >= 2);
    assert.deepEqual(
      events.map((e) => e.payload.ChangeEventHeader.changeType),
      ['UPDATE', 'DELETE'],
    );
    assert.ok(events.every((e) => e.event.replayId > stored_replay_id));

    // -2: everything retained, the CREATE included.
    const all = [];
    const client_all = replay_client('/data/AccountChangeEvent', -2);
    await subscribed(client_all.subscribe('/data/AccountChangeEvent', (m) => all.push(m)));
    await until('all retained events', () => all.length >= 3);
    assert.ok(all.some((e) => e.event.replayId === stored_replay_id));

    // 73 hours later the events are past retention: the id is refused as Salesforce does.
    await emu.control('POST', 'clock', { advance_ms: 73 * 3600 * 1000 });
    for (const c of clients.splice(0)) c.disconnect();
    conn = await login(emu); // the session expired with the clock too
    const old = replay_client('/data/AccountChangeEvent', stored_replay_id);
    const err = await subscribed(old.subscribe('/data/AccountChangeEvent', () => {})).then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'subscribing with an expired replay id must fail');
    assert.match(String(err.message ?? err), /replayId \{\d+\} you provided was invalid/);
  });

  it('publishes PushTopic events for records that match the topic query', async () => {
    const topic = await conn.sobject('PushTopic').create({
      Name: 'HotAccounts',
      Query: "SELECT Id, Name, Rating FROM Account WHERE Rating = 'Hot'",
      ApiVersion: 60.0,
      NotifyForFields: 'Referenced',
    });
    assert.equal(topic.success, true);
    const events = [];
    const sub = client().subscribe('/topic/HotAccounts', (m) => events.push(m));
    await subscribed(sub);
    const cold = await conn.sobject('Account').create({ Name: 'Cold Co', Rating: 'Cold' });
    const hot = await conn.sobject('Account').create({ Name: 'Hot Co', Rating: 'Hot' });
    await conn.sobject('Account').update({ Id: cold.id, Name: 'Still cold' });
    await conn.sobject('Account').update({ Id: hot.id, Name: 'Hotter Co' });
    await conn.sobject('Account').update({ Id: hot.id, Phone: '555-0101' }); // not in the query: no event
    await conn.sobject('Account').destroy(hot.id);
    await until('three topic events', () => events.length >= 3);
    assert.deepEqual(events.map((e) => e.event.type), ['created', 'updated', 'deleted']);
    assert.deepEqual(events[0].sobject, { Id: hot.id, Name: 'Hot Co', Rating: 'Hot' });
    assert.deepEqual(events[1].sobject, { Id: hot.id, Name: 'Hotter Co', Rating: 'Hot' });
    assert.equal(events[2].sobject.Id, hot.id);
    for (const e of events) {
      assert.match(e.event.createdDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(typeof e.event.replayId, 'number');
    }
    // A topic that does not exist cannot be subscribed to.
    const missing = client();
    const err = await subscribed(missing.subscribe('/topic/NoSuchTopic', () => {})).then(
      () => null,
      (e) => e,
    );
    assert.ok(err);
    assert.match(String(err.message ?? err), /does not exist/);
    sub.cancel();
  });

  it('survives a server-side client expiry: re-handshakes, resubscribes, loses nothing', async () => {
    const events = [];
    const expiring = replay_client('/data/AccountChangeEvent', -1);
    await subscribed(expiring.subscribe('/data/AccountChangeEvent', (m) => events.push(m)));
    const first = await conn.sobject('Account').create({ Name: 'Before expiry' });
    await until('the first event', () => events.length >= 1);
    const state = await emu.control('GET', 'streaming');
    const before_ids = state.clients.map((c) => c.clientId);
    const expired = await emu.control('POST', 'streaming/expire', {});
    assert.ok(expired.expired >= 1);
    // Made while the client has no session on the server: the replay extension's
    // last replay id brings it when the client subscribes again.
    const second = await conn.sobject('Account').create({ Name: 'During expiry' });
    await until('the event made during the expiry', () => events.length >= 2);
    const third = await conn.sobject('Account').create({ Name: 'After expiry' });
    await until('the event after the expiry', () => events.length >= 3);
    const ids = events.map((e) => e.payload.ChangeEventHeader.recordIds[0]);
    assert.deepEqual(ids, [first.id, second.id, third.id]);
    const after_state = await emu.control('GET', 'streaming');
    assert.ok(after_state.clients.some((c) => !before_ids.includes(c.clientId)), 'a new client id after re-handshake');
  });
});
