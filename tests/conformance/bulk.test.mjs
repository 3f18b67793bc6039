// jsforce Bulk API 2.0 against sfemu: an ingest job through
// loadAndWaitForResults (with a failing row) and a query job whose CSV results
// jsforce pages through by Sforce-Locator.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Sfemu, login, collect_records } from './support/sfemu.mjs';

const poll = { pollInterval: 100, pollTimeout: 30000 };

describe('bulk 2.0', { timeout: 120000 }, () => {
  let emu;
  let conn;
  before(async () => {
    emu = await Sfemu.start();
    await emu.load_records(
      'Account',
      Array.from({ length: 3000 }, (_, i) => ({ Name: `BulkQuery ${String(i).padStart(4, '0')}`, NumberOfEmployees: i })),
    );
    conn = await login(emu);
  });
  after(async () => {
    await emu?.stop();
  });

  it('loadAndWaitForResults: insert with one failing row', async () => {
    const input = [
      ...Array.from({ length: 50 }, (_, i) => ({ Name: `BulkIngest ${i}`, Phone: `555-${1000 + i}` })),
      { Name: null, Phone: 'no name' }, // "#N/A" in the CSV: Name is required
    ];
    const results = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input, ...poll });
    assert.equal(results.successfulResults.length, 50, JSON.stringify(results.failedResults));
    for (const r of results.successfulResults) {
      assert.match(r.sf__Id, /^001[a-zA-Z0-9]{15}$/);
      assert.equal(r.sf__Created, 'true');
      assert.match(r.Name, /^BulkIngest \d+$/);
    }
    assert.equal(results.failedResults.length, 1);
    assert.match(results.failedResults[0].sf__Error, /^REQUIRED_FIELD_MISSING:Required fields are missing: \[Name\]/);
    assert.equal(results.failedResults[0].Phone, 'no name');
    assert.deepEqual(results.unprocessedRecords, []);

    const res = await conn.query("SELECT Id, Phone FROM Account WHERE Name LIKE 'BulkIngest %'");
    assert.equal(res.totalSize, 50);
    const ids = new Set(results.successfulResults.map((r) => r.sf__Id));
    assert.ok(res.records.every((r) => ids.has(r.Id)));
  });

  it('loadAndWaitForResults: update then delete', async () => {
    const res = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'BulkIngest %'");
    assert.equal(res.totalSize, 50);
    const updated = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'update',
      input: res.records.map((r) => ({ Id: r.Id, Description: 'bulk updated' })),
      ...poll,
    });
    assert.equal(updated.successfulResults.length, 50);
    assert.ok(updated.successfulResults.every((r) => r.sf__Created === 'false'));
    // Description is a long text area: not filterable in SOQL (as in Salesforce), so check it here.
    const check = await conn.query("SELECT Id, Description FROM Account WHERE Name LIKE 'BulkIngest %'");
    assert.equal(check.totalSize, 50);
    assert.ok(check.records.every((r) => r.Description === 'bulk updated'), JSON.stringify(check.records[0]));

    const deleted = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'delete',
      input: res.records.map((r) => ({ Id: r.Id })),
      ...poll,
    });
    assert.equal(deleted.successfulResults.length, 50);
    const gone = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'BulkIngest %'");
    assert.equal(gone.totalSize, 0);
  });

  it('query job: all 3,000 rows come back as CSV records', async () => {
    const stream = await conn.bulk2.query("SELECT Id, Name, NumberOfEmployees FROM Account WHERE Name LIKE 'BulkQuery %'", poll);
    const records = await collect_records(stream);
    assert.equal(records.length, 3000);
    assert.equal(new Set(records.map((r) => r.Id)).size, 3000);
    const expected = new Set(Array.from({ length: 3000 }, (_, i) => `BulkQuery ${String(i).padStart(4, '0')}`));
    for (const r of records) {
      assert.ok(expected.has(r.Name), `unexpected row ${JSON.stringify(r)}`);
      assert.equal(r.NumberOfEmployees, String(Number(r.Name.slice(10))));
    }
  });

  it('queryAll job sees deleted records', async () => {
    const created = await conn.sobject('Account').create({ Name: 'BulkDeleted one' });
    await conn.sobject('Account').destroy(created.id);
    const live = await collect_records(await conn.bulk2.query("SELECT Id FROM Account WHERE Name = 'BulkDeleted one'", poll));
    assert.equal(live.length, 0);
    const all = await collect_records(
      await conn.bulk2.query("SELECT Id, IsDeleted FROM Account WHERE Name = 'BulkDeleted one'", { ...poll, scanAll: true }),
    );
    assert.equal(all.length, 1);
    assert.equal(all[0].Id, created.id);
    assert.equal(all[0].IsDeleted, 'true');
  });
});
