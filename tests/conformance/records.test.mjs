// jsforce record writes against sfemu: single-record CRUD, upsert by external
// id (created / updated / several matches), and sObject collections with and
// without allOrNone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Sfemu, login, rejection } from './support/sfemu.mjs';

describe('records', { timeout: 60000 }, () => {
  let emu;
  let conn;
  before(async () => {
    emu = await Sfemu.start();
    // An external-id field that is NOT unique, so that two records can share a
    // value and an upsert by it matches both (Salesforce answers 300).
    await emu.load_schema({
      objects: [
        {
          name: 'Account',
          fields: [{ name: 'Ext_Key__c', label: 'Ext Key', type: 'string', length: 40, externalId: true, unique: false }],
        },
      ],
    });
    await emu.load_records('Account', [
      { Name: 'Twin one', Ext_Key__c: 'TWIN' },
      { Name: 'Twin two', Ext_Key__c: 'TWIN' },
    ]);
    conn = await login(emu);
  });
  after(async () => {
    await emu?.stop();
  });

  it('create, retrieve, update, destroy one record', async () => {
    const account = conn.sobject('Account');
    const created = await account.create({ Name: 'Crud Co', Phone: '555-0100' });
    assert.equal(created.success, true);
    assert.deepEqual(created.errors, []);
    assert.match(created.id, /^001[a-zA-Z0-9]{15}$/);

    const got = await account.retrieve(created.id);
    assert.equal(got.Id, created.id);
    assert.equal(got.Name, 'Crud Co');
    assert.equal(got.Phone, '555-0100');
    assert.equal(got.attributes.type, 'Account');
    assert.equal(got.IsDeleted, false);
    assert.match(got.CreatedDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);

    const updated = await account.update({ Id: created.id, Name: 'Crud Co Renamed' });
    assert.deepEqual(updated, { id: created.id, success: true, errors: [] });
    const again = await account.retrieve(created.id);
    assert.equal(again.Name, 'Crud Co Renamed');
    assert.equal(again.Phone, '555-0100');
    assert.ok(again.SystemModstamp >= got.SystemModstamp);

    const destroyed = await account.destroy(created.id);
    assert.deepEqual(destroyed, { id: created.id, success: true, errors: [] });
    const err = await rejection(() => account.retrieve(created.id));
    assert.ok(['NOT_FOUND', 'ENTITY_IS_DELETED'].includes(err.errorCode), `unexpected ${err.errorCode}: ${err.message}`);
  });

  it('create without a required field fails with REQUIRED_FIELD_MISSING', async () => {
    const err = await rejection(() => conn.sobject('Account').create({ Phone: '1' }));
    assert.equal(err.errorCode, 'REQUIRED_FIELD_MISSING');
    assert.match(err.message, /Required fields are missing: \[Name\]/);
    assert.deepEqual(err.data.fields, ['Name']);
  });

  it('update of an unknown field fails with INVALID_FIELD', async () => {
    const created = await conn.sobject('Account').create({ Name: 'Field check' });
    const err = await rejection(() => conn.sobject('Account').update({ Id: created.id, NoSuch__c: 'x' }));
    assert.equal(err.errorCode, 'INVALID_FIELD');
  });

  it('upsert by external id: created, then updated', async () => {
    const account = conn.sobject('Account');
    const first = await account.upsert({ Ext_Key__c: 'UP-1', Name: 'Upsert Co' }, 'Ext_Key__c');
    assert.equal(first.success, true);
    assert.equal(first.created, true);
    assert.match(first.id, /^001/);

    const second = await account.upsert({ Ext_Key__c: 'UP-1', Name: 'Upsert Co Updated' }, 'Ext_Key__c');
    assert.equal(second.success, true);
    assert.equal(second.created, false);
    assert.equal(second.id, first.id);

    const res = await conn.query("SELECT Id, Name FROM Account WHERE Ext_Key__c = 'UP-1'");
    assert.equal(res.totalSize, 1);
    assert.equal(res.records[0].Name, 'Upsert Co Updated');
  });

  it('upsert matching several records: 300, which jsforce reports as MULTIPLE_CHOICES', async () => {
    const err = await rejection(() => conn.sobject('Account').upsert({ Ext_Key__c: 'TWIN', Name: 'Which one?' }, 'Ext_Key__c'));
    assert.equal(err.errorCode, 'MULTIPLE_CHOICES');
    assert.ok(Array.isArray(err.data), 'the 300 body must be a JSON array of record URLs');
    assert.equal(err.data.length, 2);
    for (const url of err.data) assert.match(url, /^\/services\/data\/v[0-9.]+\/sobjects\/Account\/001[a-zA-Z0-9]{15}$/);
    const res = await conn.query("SELECT Name FROM Account WHERE Ext_Key__c = 'TWIN' ORDER BY Name");
    assert.deepEqual(res.records.map((r) => r.Name), ['Twin one', 'Twin two']);
  });

  it('collections: create / update / destroy several records in one call', async () => {
    const account = conn.sobject('Account');
    const created = await account.create([{ Name: 'Coll A' }, { Name: 'Coll B' }, { Name: 'Coll C' }]);
    assert.equal(created.length, 3);
    assert.ok(created.every((r) => r.success && /^001/.test(r.id)), JSON.stringify(created));

    const updated = await account.update(created.map((r, i) => ({ Id: r.id, Name: `Coll ${i} updated` })));
    assert.ok(updated.every((r, i) => r.success && r.id === created[i].id), JSON.stringify(updated));
    const res = await conn.query("SELECT Name FROM Account WHERE Name LIKE 'Coll % updated' ORDER BY Name");
    assert.deepEqual(res.records.map((r) => r.Name), ['Coll 0 updated', 'Coll 1 updated', 'Coll 2 updated']);

    const destroyed = await account.destroy(created.map((r) => r.id));
    assert.ok(destroyed.every((r, i) => r.success && r.id === created[i].id), JSON.stringify(destroyed));
    const left = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'Coll %'");
    assert.equal(left.totalSize, 0);
  });

  it('collections without allOrNone: the good records are saved, the bad one reports its error', async () => {
    const results = await conn.sobject('Account').create([{ Name: 'Partial A' }, { Phone: 'no name' }, { Name: 'Partial C' }]);
    assert.equal(results.length, 3);
    assert.equal(results[0].success, true);
    assert.equal(results[2].success, true);
    assert.equal(results[1].success, false);
    assert.equal(results[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
    assert.deepEqual(results[1].errors[0].fields, ['Name']);
    const res = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'Partial %'");
    assert.equal(res.totalSize, 2);
  });

  it('collections with allOrNone: one bad record rolls back the whole call', async () => {
    const results = await conn.sobject('Account').create([{ Name: 'Atomic A' }, { Phone: 'no name' }, { Name: 'Atomic C' }], { allOrNone: true });
    assert.equal(results.length, 3);
    assert.ok(results.every((r) => r.success === false), JSON.stringify(results));
    assert.equal(results[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
    assert.equal(results[0].errors[0].statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
    assert.equal(results[2].errors[0].statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
    const res = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'Atomic %'");
    assert.equal(res.totalSize, 0, 'allOrNone must not leave any record behind');
  });

  it('collections upsert by external id', async () => {
    const results = await conn.sobject('Account').upsert(
      [
        { Ext_Key__c: 'CU-1', Name: 'Coll upsert 1' },
        { Ext_Key__c: 'UP-1', Name: 'Upsert Co via collection' },
      ],
      'Ext_Key__c',
    );
    assert.equal(results.length, 2);
    assert.equal(results[0].success, true);
    assert.equal(results[0].created, true);
    assert.equal(results[1].success, true);
    assert.equal(results[1].created, false);
  });
});
