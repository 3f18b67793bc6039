// jsforce metadata calls against sfemu: describeGlobal, describe, limits, and
// the Sforce-Limit-Info header jsforce reads on every response.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Sfemu, login, rejection } from './support/sfemu.mjs';

const standard_objects = {
  Account: '001', Contact: '003', Lead: '00Q', Opportunity: '006', OpportunityLineItem: '00k', Case: '500',
  User: '005', Campaign: '701', CampaignMember: '00v', Task: '00T', Event: '00U', Product2: '01t',
  Pricebook2: '01s', PricebookEntry: '01u', Order: '801', Asset: '02i', Contract: '800',
};

describe('metadata', { timeout: 60000 }, () => {
  let emu;
  let conn;
  before(async () => {
    emu = await Sfemu.start();
    conn = await login(emu);
  });
  after(async () => {
    await emu?.stop();
  });

  it('describeGlobal lists the standard objects with their key prefixes', async () => {
    const res = await conn.describeGlobal();
    assert.equal(res.encoding, 'UTF-8');
    assert.equal(res.maxBatchSize, 200);
    const by_name = new Map(res.sobjects.map((s) => [s.name, s]));
    for (const [name, prefix] of Object.entries(standard_objects)) {
      const s = by_name.get(name);
      assert.ok(s, `describeGlobal lacks ${name}`);
      assert.equal(s.keyPrefix, prefix, `${name} key prefix`);
      assert.equal(s.custom, false);
      assert.equal(s.queryable, true);
      assert.equal(typeof s.label, 'string');
      assert.equal(typeof s.labelPlural, 'string');
      assert.match(s.urls.describe, new RegExp(`/sobjects/${name}/describe$`));
    }
    // jsforce registers an SObject handle for every object describeGlobal lists.
    assert.ok(conn.sobjects.Account, 'jsforce did not register sobjects from describeGlobal');
  });

  it('describe User has the standard fields a describe-driven mapping asks for', async () => {
    // A real sync client mapping User stopped at "Field Phone not found" (and UserRoleId).
    const d = await conn.sobject('User').describe();
    const fields = new Map(d.fields.map((f) => [f.name, f]));
    for (const name of ['Phone', 'MobilePhone', 'UserRoleId', 'ProfileId', 'ManagerId', 'Title', 'Department']) {
      assert.ok(fields.has(name), `User describe lacks ${name}`);
    }
    assert.equal(fields.get('Phone').type, 'phone');
    assert.deepEqual(fields.get('UserRoleId').referenceTo, ['UserRole']);
    assert.equal(fields.get('UserRoleId').relationshipName, 'UserRole');
    assert.equal(fields.get('ProfileId').nillable, false);
    const task = new Map((await conn.sobject('Task').describe()).fields.map((f) => [f.name, f]));
    assert.deepEqual(task.get('WhoId').referenceTo, ['Contact', 'Lead']);
    assert.equal(task.get('WhoId').relationshipName, 'Who');
  });

  it('describe Account: object properties and field metadata', async () => {
    const d = await conn.sobject('Account').describe();
    assert.equal(d.name, 'Account');
    assert.equal(d.keyPrefix, '001');
    assert.equal(d.custom, false);
    assert.equal(d.createable, true);
    const fields = new Map(d.fields.map((f) => [f.name, f]));
    for (const name of ['Id', 'Name', 'IsDeleted', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp']) {
      assert.ok(fields.has(name), `Account describe lacks ${name}`);
    }
    const id = fields.get('Id');
    assert.equal(id.type, 'id');
    assert.equal(id.nillable, false);
    assert.equal(id.createable, false);
    const name = fields.get('Name');
    assert.equal(name.type, 'string');
    assert.equal(name.nillable, false);
    assert.equal(name.createable, true);
    assert.equal(name.updateable, true);
    assert.ok(name.length > 0);
    assert.equal(fields.get('SystemModstamp').type, 'datetime');
    assert.equal(fields.get('IsDeleted').type, 'boolean');
    assert.deepEqual(fields.get('CreatedById').referenceTo, ['User']);
    for (const f of d.fields) {
      for (const key of ['label', 'type', 'soapType', 'nillable', 'createable', 'updateable', 'custom', 'externalId', 'unique', 'calculated', 'filterable', 'sortable', 'referenceTo', 'picklistValues']) {
        assert.ok(key in f, `field ${f.name} lacks '${key}'`);
      }
    }
    assert.ok(Array.isArray(d.childRelationships));
    assert.ok(Array.isArray(d.recordTypeInfos));
  });

  it('describe Contact: a reference field to Account with its relationship name', async () => {
    const d = await conn.describe('Contact');
    const account_id = d.fields.find((f) => f.name === 'AccountId');
    assert.ok(account_id, 'Contact describe lacks AccountId');
    assert.equal(account_id.type, 'reference');
    assert.deepEqual(account_id.referenceTo, ['Account']);
    assert.equal(account_id.relationshipName, 'Account');
  });

  it('describe of an unknown object fails with NOT_FOUND', async () => {
    const err = await rejection(() => conn.describe('NoSuchThing__c'));
    assert.equal(err.errorCode, 'NOT_FOUND');
  });

  it('limits: DailyApiRequests with Max and Remaining, usage in Sforce-Limit-Info', async () => {
    const limits = await conn.limits();
    const daily = limits.DailyApiRequests;
    assert.ok(daily, 'limits lacks DailyApiRequests');
    assert.equal(typeof daily.Max, 'number');
    assert.equal(typeof daily.Remaining, 'number');
    assert.ok(daily.Max > 0);
    assert.ok(daily.Remaining <= daily.Max);
    assert.ok(limits.DailyBulkV2QueryJobs, 'limits lacks DailyBulkV2QueryJobs');

    // jsforce parses "Sforce-Limit-Info: api-usage=used/max" from each response.
    const usage = conn.limitInfo.apiUsage;
    assert.ok(usage, 'jsforce found no Sforce-Limit-Info header');
    assert.equal(usage.limit, daily.Max);
    assert.ok(usage.used >= 1);
    await conn.query('SELECT Id FROM Account LIMIT 1');
    assert.ok(conn.limitInfo.apiUsage.used > usage.used, 'api usage did not grow with a request');
  });
});
