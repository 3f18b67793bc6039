// jsforce queries against sfemu: autoFetch over several 2000-record pages,
// queryMore by locator, queryAll seeing deleted records, and the legacy
// (before v56) limit of 10 open query cursors per user.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Sfemu, login, rejection } from './support/sfemu.mjs';

function names(prefix, n) {
  return Array.from({ length: n }, (_, i) => ({ Name: `${prefix} ${String(i).padStart(5, '0')}` }));
}

describe('query', { timeout: 120000 }, () => {
  let emu;
  before(async () => {
    emu = await Sfemu.start();
    await emu.load_records('Account', names('AutoFetch', 4500));
    await emu.load_records('Account', names('Cursor', 300));
  });
  after(async () => {
    await emu?.stop();
  });

  it('autoFetch follows nextRecordsUrl over 4,500 rows (three pages)', async () => {
    const conn = await login(emu);
    const soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'AutoFetch %'";
    const pages = [];
    const query = conn.query(soql, { autoFetch: true, maxFetch: 10000 });
    query.on('fetch', () => pages.push(1));
    const res = await query;
    assert.equal(res.totalSize, 4500);
    assert.equal(res.done, true);
    assert.equal(res.records.length, 4500);
    assert.equal(new Set(res.records.map((r) => r.Id)).size, 4500, 'duplicate ids across pages');
    const got = res.records.map((r) => r.Name).sort();
    assert.deepEqual(got, names('AutoFetch', 4500).map((r) => r.Name));
    for (const r of res.records) {
      assert.equal(r.attributes.type, 'Account');
      assert.match(r.attributes.url, new RegExp(`^/services/data/v[0-9.]+/sobjects/Account/${r.Id}$`));
    }
  });

  it('maxFetch stops autoFetch early', async () => {
    const conn = await login(emu);
    const res = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'AutoFetch %'", { autoFetch: true, maxFetch: 2500 });
    assert.equal(res.records.length, 2500);
    assert.equal(res.totalSize, 4500);
  });

  it('pages by hand: 2000 per page by default, then queryMore with the locator', async () => {
    const conn = await login(emu);
    const first = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'AutoFetch %'");
    assert.equal(first.done, false);
    assert.equal(first.records.length, 2000);
    assert.match(first.nextRecordsUrl, /\/query\/[^/]+-2000$/);
    const second = await conn.queryMore(first.nextRecordsUrl);
    assert.equal(second.records.length, 2000);
    const third = await conn.queryMore(second.nextRecordsUrl);
    assert.equal(third.records.length, 500);
    assert.equal(third.done, true);
    const all = new Set([...first.records, ...second.records, ...third.records].map((r) => r.Id));
    assert.equal(all.size, 4500);
  });

  it('Sforce-Query-Options batchSize sets the page size', async () => {
    const conn = await login(emu);
    const res = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'Cursor %'", {
      headers: { 'Sforce-Query-Options': 'batchSize=200' },
    });
    assert.equal(res.records.length, 200);
    assert.equal(res.done, false);
    assert.equal(res.totalSize, 300);
  });

  it('queryAll sees deleted records with IsDeleted = true; query does not', async () => {
    const conn = await login(emu);
    const created = await conn.sobject('Account').create([{ Name: 'QueryAll keep' }, { Name: 'QueryAll gone' }]);
    assert.ok(created.every((r) => r.success), JSON.stringify(created));
    const gone = created[1].id;
    const del = await conn.sobject('Account').destroy(gone);
    assert.equal(del.success, true);

    const soql = "SELECT Id, Name, IsDeleted FROM Account WHERE Name LIKE 'QueryAll %'";
    const live = await conn.query(soql);
    assert.deepEqual(live.records.map((r) => r.Name), ['QueryAll keep']);
    assert.equal(live.records[0].IsDeleted, false);

    const all = await conn.query(soql, { scanAll: true });
    assert.equal(all.totalSize, 2);
    const deleted = all.records.find((r) => r.Id === gone);
    assert.ok(deleted, 'queryAll did not return the deleted record');
    assert.equal(deleted.IsDeleted, true);
    assert.equal(deleted.Name, 'QueryAll gone');
  });

  it('legacy cursors (v55.0): opening an 11th cursor invalidates the oldest', async () => {
    const conn = await login(emu, { version: '55.0' });
    const soql = "SELECT Id FROM Account WHERE Name LIKE 'Cursor %'";
    const headers = { 'Sforce-Query-Options': 'batchSize=200' };
    const open = [];
    for (let i = 0; i < 11; i++) {
      const res = await conn.query(soql, { headers });
      assert.equal(res.done, false, `cursor ${i + 1} should still be open`);
      open.push(res.nextRecordsUrl);
    }
    const err = await rejection(() => conn.queryMore(open[0]));
    assert.equal(err.errorCode, 'INVALID_QUERY_LOCATOR');
    // The second-oldest and the newest are still usable.
    const second = await conn.queryMore(open[1]);
    assert.equal(second.records.length, 100);
    assert.equal(second.done, true);
    const newest = await conn.queryMore(open[10]);
    assert.equal(newest.records.length, 100);
  });

  it('modern cursors (v60.0): eleven open cursors all stay valid', async () => {
    const conn = await login(emu, { version: '60.0' });
    const soql = "SELECT Id FROM Account WHERE Name LIKE 'Cursor %'";
    const headers = { 'Sforce-Query-Options': 'batchSize=200' };
    const open = [];
    for (let i = 0; i < 11; i++) {
      open.push((await conn.query(soql, { headers })).nextRecordsUrl);
    }
    const oldest = await conn.queryMore(open[0]);
    assert.equal(oldest.records.length, 100);
    assert.equal(oldest.done, true);
  });

  it('a bad query gets MALFORMED_QUERY / INVALID_FIELD / INVALID_TYPE', async () => {
    const conn = await login(emu);
    let err = await rejection(() => conn.query('SELEC Id FROM Account'));
    assert.equal(err.errorCode, 'MALFORMED_QUERY');
    err = await rejection(() => conn.query('SELECT Id, NoSuchField__c FROM Account'));
    assert.equal(err.errorCode, 'INVALID_FIELD');
    assert.match(err.message, /No such column 'NoSuchField__c' on entity 'Account'/);
    err = await rejection(() => conn.query('SELECT Id FROM NoSuchObject__c'));
    assert.equal(err.errorCode, 'INVALID_TYPE');
  });
});
