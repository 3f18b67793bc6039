// jsforce meeting sfemu's limits and faults the way it meets Salesforce's:
// the daily API limit, injected 503s and 401s (which jsforce retries or
// re-logs in for), pinned OAuth clients, logout/revoke, and the replication
// calls (updated/deleted) and record counts a sync engine relies on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Sfemu, jsforce, admin_user, admin_password, api_version, login, rejection } from './support/sfemu.mjs';

describe('limits, faults and replication', { timeout: 60000 }, () => {
  let emu;
  before(async () => {
    emu = await Sfemu.start();
  });
  after(async () => {
    await emu?.stop();
  });

  it('the daily API limit: 403 REQUEST_LIMIT_EXCEEDED, not retried', async () => {
    const conn = await login(emu);
    const settings = await emu.control('GET', 'settings');
    await emu.settings({ api_used: settings.api_limit });
    try {
      const err = await rejection(() => conn.query('SELECT Id FROM Account'));
      assert.equal(err.errorCode, 'REQUEST_LIMIT_EXCEEDED');
      assert.match(err.message, /TotalRequests Limit exceeded/);
    } finally {
      await emu.settings({ api_used: 0 });
    }
    const res = await conn.query('SELECT Id FROM Account');
    assert.equal(typeof res.totalSize, 'number');
  });

  it('an injected 503 on a GET is retried by jsforce and the query succeeds', async () => {
    const conn = await login(emu);
    await emu.control('DELETE', 'faults');
    await emu.control('POST', 'faults', { route: '/query', method: 'GET', action: 'error', status: 503, count: 1 });
    try {
      const res = await conn.query('SELECT Id FROM User');
      assert.ok(res.totalSize >= 1);
      const { faults } = await emu.control('GET', 'faults');
      assert.equal(faults[0].hits, 1, 'the fault was not hit: jsforce saw no 503');
    } finally {
      await emu.control('DELETE', 'faults');
    }
  });

  it('an injected 401 makes jsforce log in again and retry', async () => {
    const conn = await login(emu);
    const refreshed = [];
    conn.on('refresh', (token) => refreshed.push(token));
    await emu.control('POST', 'faults', { route: '/sobjects', method: 'GET', action: 'unauthorized', count: 1 });
    try {
      const d = await conn.describeGlobal();
      assert.ok(d.sobjects.length > 0);
      assert.equal(refreshed.length, 1);
    } finally {
      await emu.control('DELETE', 'faults');
    }
  });

  it('OAuth logout revokes the token', async () => {
    const conn = await login(emu, { oauth: true });
    const token = conn.accessToken;
    await conn.logout();
    const stale = new jsforce.Connection({ instanceUrl: emu.base_url, accessToken: token, version: api_version });
    const err = await rejection(() => stale.query('SELECT Id FROM User'));
    assert.equal(err.errorCode, 'INVALID_SESSION_ID');
  });

  it('SOAP logout ends the session', async () => {
    const conn = await login(emu);
    const token = conn.accessToken;
    await conn.logout();
    const stale = new jsforce.Connection({ instanceUrl: emu.base_url, accessToken: token, version: api_version });
    const err = await rejection(() => stale.query('SELECT Id FROM User'));
    assert.equal(err.errorCode, 'INVALID_SESSION_ID');
  });

  it('updated / deleted list the records changed in a window', async () => {
    const conn = await login(emu);
    const start = new Date(Date.now() - 60000);
    const account = conn.sobject('Account');
    const kept = await account.create({ Name: 'Replicated kept' });
    const gone = await account.create({ Name: 'Replicated gone' });
    await account.destroy(gone.id);
    const end = new Date(Date.now() + 1000);

    const updated = await account.updated(start, end);
    assert.ok(updated.ids.includes(kept.id), JSON.stringify(updated));
    assert.ok(!updated.ids.includes(gone.id), 'a deleted record must not be listed as updated');
    assert.match(updated.latestDateCovered, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000\+0000$/);

    const deleted = await account.deleted(start, end);
    const entry = deleted.deletedRecords.find((r) => r.id === gone.id);
    assert.ok(entry, JSON.stringify(deleted));
    assert.match(entry.deletedDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    assert.ok(!deleted.deletedRecords.some((r) => r.id === kept.id));
  });

  it('limits/recordCount counts live records', async () => {
    const conn = await login(emu);
    const before = await conn.request('/limits/recordCount?sObjects=Account,Contact');
    const count_of = (body, name) => body.sObjects.find((s) => s.name === name)?.count ?? 0;
    await conn.sobject('Account').create([{ Name: 'Counted 1' }, { Name: 'Counted 2' }]);
    const after = await conn.request('/limits/recordCount?sObjects=Account,Contact');
    assert.equal(count_of(after, 'Account'), count_of(before, 'Account') + 2);
    assert.equal(count_of(after, 'Contact'), count_of(before, 'Contact'));
  });
});

describe('a pinned OAuth client (--client ID:SECRET)', { timeout: 30000 }, () => {
  let emu;
  before(async () => {
    emu = await Sfemu.start(['--client', 'pinned-app:pinned-secret']);
  });
  after(async () => {
    await emu?.stop();
  });

  const connect = (clientId, clientSecret) =>
    new jsforce.Connection({
      oauth2: new jsforce.OAuth2({ clientId, clientSecret, loginUrl: emu.base_url }),
      version: api_version,
    });

  it('the right secret logs in', async () => {
    const conn = connect('pinned-app', 'pinned-secret');
    const info = await conn.login(admin_user, admin_password);
    assert.ok(info.id.startsWith('005'));
  });

  it('a wrong secret or an unknown client is refused', async () => {
    let err = await rejection(() => connect('pinned-app', 'wrong-secret').login(admin_user, admin_password));
    assert.equal(err.name, 'invalid_client');
    err = await rejection(() => connect('other-app', 'pinned-secret').login(admin_user, admin_password));
    assert.equal(err.name, 'invalid_client_id');
  });
});
