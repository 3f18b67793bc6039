// The SOQL jsforce writes itself (find/count/sort/limit, '*' expanded through
// describe, SfDate literals), parent relationship fields, and multi-record
// retrieve (POST /composite/sobjects/{type}).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Sfemu, jsforce, login } from './support/sfemu.mjs';

describe('jsforce query builder and relationships', { timeout: 60000 }, () => {
  let emu;
  let conn;
  let acme;
  before(async () => {
    emu = await Sfemu.start();
    conn = await login(emu);
    const accounts = await conn.sobject('Account').create([
      { Name: 'Finder Acme', NumberOfEmployees: 50, Industry: 'Energy' },
      { Name: 'Finder Beta', NumberOfEmployees: 5 },
      { Name: 'Finder Gamma', NumberOfEmployees: 500 },
    ]);
    assert.ok(accounts.every((r) => r.success), JSON.stringify(accounts));
    acme = accounts[0].id;
    const contacts = await conn.sobject('Contact').create([
      { LastName: 'Child of Acme', AccountId: acme },
      { LastName: 'Orphan' },
    ]);
    assert.ok(contacts.every((r) => r.success), JSON.stringify(contacts));
  });
  after(async () => {
    await emu?.stop();
  });

  it("find with conditions, sort and limit (jsforce's own SOQL)", async () => {
    const rows = await conn
      .sobject('Account')
      .find({ Name: { $like: 'Finder %' }, NumberOfEmployees: { $gte: 10 } }, ['Id', 'Name', 'NumberOfEmployees'])
      .sort({ NumberOfEmployees: -1 })
      .limit(5);
    assert.deepEqual(rows.map((r) => r.Name), ['Finder Gamma', 'Finder Acme']);
    assert.equal(rows[0].NumberOfEmployees, 500);
  });

  it("find with '*' expands the fields through describe", async () => {
    const rows = await conn.sobject('Account').find({ Id: acme }, '*');
    assert.equal(rows.length, 1);
    const r = rows[0];
    for (const f of ['Id', 'Name', 'IsDeleted', 'CreatedDate', 'SystemModstamp', 'NumberOfEmployees', 'Industry']) {
      assert.ok(f in r, `'*' did not bring ${f}`);
    }
    assert.equal(r.Industry, 'Energy');
  });

  it('$in, $or and null conditions', async () => {
    const rows = await conn
      .sobject('Account')
      .find({ $or: [{ Name: { $in: ['Finder Beta', 'Finder Gamma'] } }, { Industry: 'Energy' }] }, ['Name'])
      .sort('Name');
    assert.deepEqual(rows.map((r) => r.Name), ['Finder Acme', 'Finder Beta', 'Finder Gamma']);
    const no_industry = await conn.sobject('Account').find({ Name: { $like: 'Finder %' }, Industry: null }, ['Name']).sort('Name');
    assert.deepEqual(no_industry.map((r) => r.Name), ['Finder Beta', 'Finder Gamma']);
  });

  it('count() runs SELECT COUNT()', async () => {
    const n = await conn.sobject('Account').count({ Name: { $like: 'Finder %' } });
    assert.equal(n, 3);
  });

  it('SfDate datetime literals (unquoted) filter on CreatedDate', async () => {
    const an_hour_ago = jsforce.SfDate.toDateTimeLiteral(new Date(Date.now() - 3600 * 1000));
    const in_an_hour = jsforce.SfDate.toDateTimeLiteral(new Date(Date.now() + 3600 * 1000));
    const recent = await conn.sobject('Account').find({ Name: { $like: 'Finder %' }, CreatedDate: { $gte: an_hour_ago } }, ['Id']);
    assert.equal(recent.length, 3);
    const future = await conn.sobject('Account').find({ Name: { $like: 'Finder %' }, CreatedDate: { $gte: in_an_hour } }, ['Id']);
    assert.equal(future.length, 0);
  });

  it('parent relationship fields come back nested, or null', async () => {
    const res = await conn.query("SELECT Id, LastName, Account.Name FROM Contact WHERE LastName IN ('Child of Acme', 'Orphan') ORDER BY LastName");
    assert.equal(res.totalSize, 2);
    const [child, orphan] = res.records;
    assert.equal(child.LastName, 'Child of Acme');
    assert.equal(child.Account.Name, 'Finder Acme');
    assert.equal(child.Account.attributes.type, 'Account');
    assert.equal(orphan.Account, null);
  });

  it('retrieve several ids at once (POST /composite/sobjects/Account)', async () => {
    const found = await conn.sobject('Account').find({ Name: { $like: 'Finder %' } }, ['Id']).sort('Name');
    const ids = found.map((r) => r.Id);
    const records = await conn.sobject('Account').retrieve(ids, { fields: ['Name'] });
    assert.equal(records.length, 3);
    assert.deepEqual(records.map((r) => r.Name), ['Finder Acme', 'Finder Beta', 'Finder Gamma']);
    assert.deepEqual(records.map((r) => r.Id), ids);
  });
});
