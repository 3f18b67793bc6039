// The dashboard end to end in headless Chromium against a real syncforced,
// sfemu and PostgreSQL: everything issue #18 lists under "Tested end to end".
// With SYNCFORCE_SCREENSHOTS=1 the screenshots land in docs/img/ (docs/dashboard.md).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { Sfemu, Node, TestDatabase, until, chromium_path, repo_root } from './support/stack.mjs';

const token = 'browser-test-token-' + Math.random().toString(36).slice(2);
const tokens = { tester: token };
const shots = process.env.SYNCFORCE_SCREENSHOTS === '1' ? path.join(repo_root, 'docs', 'img')
                                                        : mkdtempSync(path.join(tmpdir(), 'sf-shots-'));

describe('dashboard', { timeout: 280000 }, () => {
  let emu, db, node, node2, browser, context, page;

  const state_of = (object) => db.query(`SELECT state FROM syncforce.mappings WHERE object_name = '${object}'`)[0]?.[0];
  const audit_actions = () => db.query('SELECT actor, action FROM syncforce.audit_log ORDER BY id').map((r) => r.join(' '));
  const shot = (name, p = page, fullPage = false) => p.screenshot({ path: path.join(shots, name + '.png'), fullPage });

  before(async () => {
    emu = await Sfemu.start();
    await emu.control('POST', 'schema', { objects: [{ name: 'Contact', fields: [
      { name: 'Demo_Key__c', type: 'string', length: 40, external_id: true, unique: true }] }] });
    const accounts = ['Name,Industry'].concat(Array.from({ length: 10 }, (_, i) => `Account ${i},Technology`)).join('\n');
    await emu.control('POST', 'records/Account', accounts);
    const contacts = ['FirstName,LastName,Email,Demo_Key__c']
      .concat(Array.from({ length: 40 }, (_, i) => `First${i},Last${i},c${i}@example.com,C-${i}`)).join('\n');
    await emu.control('POST', 'records/Contact', contacts);
    const leads = ['FirstName,LastName,Company,Email']
      .concat(Array.from({ length: 25 }, (_, i) => `Lead${i},Person${i},Company ${i},l${i}@example.com`)).join('\n');
    await emu.control('POST', 'records/Lead', leads);

    db = TestDatabase.create();
    node = await Node.start({ database_url: db.url, sfemu_url: emu.base_url, tokens });
    node.cli(token, 'connection:create', 'demo', '--login-url', emu.base_url, '--username', 'admin@sfemu.local',
             '--auth', 'password', '--secret-ref', 'env:SF_PASSWORD', '--schema', 'salesforce', '--api-version', '60.0');
    node.cli(token, 'mapping:create', 'Account', '--fields', 'Name,Industry', '--access', 'read_only');
    node.cli(token, 'mapping:create', 'Contact', '--fields', 'FirstName,LastName,Email,Demo_Key__c',
             '--access', 'read_write', '--upsert-field', 'Demo_Key__c');

    browser = await chromium.launch({ executablePath: chromium_path(), headless: true,
                                      args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => { throw e; });
  });

  after(async () => {
    await browser?.close();
    await node2?.stop();
    await node?.stop();
    await emu?.stop();
    db?.drop();
    if (process.env.SYNCFORCE_SCREENSHOTS !== '1') rmSync(shots, { recursive: true, force: true });
  });

  it('refuses a wrong token and sets no cookie', async () => {
    await page.goto(node.base_url + '/');
    await page.waitForSelector('#token');
    await page.fill('#token', 'not-the-token');
    await page.press('#token', 'Enter');
    await page.waitForFunction(() => document.querySelector('#sign-in-error')?.textContent.length > 0);
    assert.match(await page.textContent('#sign-in-error'), /not valid/);
    const cookies = await context.cookies();
    assert.equal(cookies.filter((c) => c.name === 'sf_session').length, 0);
    assert.equal(db.query('SELECT count(*) FROM syncforce.dashboard_sessions')[0][0], '0');
  });

  it('signs in with the keyboard and shows the demo mappings loading to DATA_SYNCED, live', async () => {
    await page.fill('#token', token);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#mappings tr[data-object="Contact"]');
    assert.match(await page.textContent('#who'), /tester/);
    const cookie = (await context.cookies()).find((c) => c.name === 'sf_session');
    assert.ok(cookie, 'no session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    // Only the cookie's hash is stored; never the admin token.
    const stored = db.query("SELECT token_name, encode(id_hash, 'hex') FROM syncforce.dashboard_sessions");
    assert.equal(stored.length, 1);
    assert.equal(stored[0][0], 'tester');
    assert.notEqual(stored[0][1], Buffer.from(cookie.value).toString('hex'));
    // The page refreshes itself: no reload while the loads finish.
    await page.waitForFunction(() => {
      const row = (o) => document.querySelector(`#mappings tr[data-object="${o}"]`);
      return ['Account', 'Contact'].every((o) => row(o)?.querySelector('.state')?.textContent.includes('DATA_SYNCED'))
        && row('Contact').querySelector('.rows').textContent === '40'
        && row('Account').querySelector('.rows').textContent === '10';
    }, null, { timeout: 90000 });
    await page.waitForFunction(() => !document.querySelector('#budget')?.textContent.startsWith('Asking'));
    await shot('overview', page, true);
  });

  it('shows the integration user\'s query cursors next to the API budget: in use, limit, who holds them', async () => {
    // Queries answer slowly for a while: each poll holds its cursor for seconds, long enough to be seen.
    await emu.control('POST', 'faults', { route: '/query', action: 'none', latency_ms: 3000, count: 8 });
    try {
      await page.waitForSelector('#cursor-holders tbody tr', { timeout: 40000 });
      const holders = await page.$$eval('#cursor-holders tbody tr',
        (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
      assert.ok(holders.some(([conn, object, where, n]) => conn === 'demo' && ['Account', 'Contact'].includes(object)
        && where === 'browser-node' && Number(n) >= 1), JSON.stringify(holders));
      // API 60.0: no cursor limit (the legacy 10 is for versions before 56.0).
      assert.match(await page.textContent('#cursor-use'),
                   /^[1-9]\d* in use of no limit, \d+ waiting \(peak [1-9]\d*, waited \d+ times\); broker on node browser-node/);
    } finally {
      await emu.control('DELETE', 'faults');
    }
    // The API usage as Salesforce reported it (Sforce-Limit-Info) sits next to the cursors.
    await page.waitForFunction(() => /API requests used today/.test(document.querySelector('#broker-api')?.textContent));
    // The CLI asks the same call.
    const limits = JSON.parse(node.cli(token, 'limits', '--json'));
    assert.equal(limits.connection, 'demo');
    assert.equal(limits.username, 'admin@sfemu.local');
    assert.equal(limits.broker_node, 'browser-node');
    assert.equal(limits.unavailable, '');
    assert.equal(limits.cursor_limit, 0);
    assert.ok(limits.cursors_peak >= 1, JSON.stringify(limits));
    assert.ok(Number(limits.api_max) > 0 && Number(limits.api_used) > 0, JSON.stringify(limits));
    assert.match(node.cli(token, 'limits'), /Query cursors: \d+ in use of no limit/);
    await shot('overview-cursors', page, true);
  });

  it('shows a mapping\'s own log lines as its recent activity, and the audit trail apart', async () => {
    const id = db.query("SELECT id FROM syncforce.mappings WHERE object_name = 'Contact'")[0][0];
    const conn = db.query("SELECT id FROM syncforce.connections WHERE name = 'demo'")[0][0];
    // A change in Salesforce: the next poll logs what it found (a sync line, keyed by the connection).
    await emu.control('POST', 'records/Contact', 'FirstName,LastName,Email,Demo_Key__c\nNew,Person,new@example.com,C-new');
    await page.goto(node.base_url + '/#/mapping/Contact');
    await page.waitForFunction(() => [...document.querySelectorAll('#activity-log li code')]
      .some((c) => c.textContent.startsWith('event="Polling Salesforce found 1 updated records"')), null, { timeout: 30000 });
    const lines = await page.$$eval('#activity-log li code', (cs) => cs.map((c) => c.textContent));
    assert.ok(lines.length >= 2, lines.join('\n'));
    for (const line of lines) {
      assert.ok(line.includes(`object_type=mapping object_id=${id}`) ||
                (line.includes(`addon_id=${conn}`) && line.includes('object_type=sync') &&
                 (line.includes('object_name=Contact') || line.startsWith('event="Contact '))),
                `not a line of Contact: ${line}`);
      // The very lines the node logged, not a summary of them.
      assert.ok(node.output.includes(line), `not in the node's log: ${line}`);
    }
    assert.ok(lines.some((l) => l.startsWith('event="Loaded table contact: 40 rows')), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes(token)));
    const nodes = await page.$$eval('#activity-log li .node', (ns) => [...new Set(ns.map((n) => n.textContent))]);
    assert.deepEqual(nodes, ['browser-node']);
    // The audit trail keeps its own section.
    await page.waitForSelector('#mapping-audit li');
    assert.match(await page.textContent('#mapping-audit'), /tester: mapping\.create/);
    // The CLI shows the same lines.
    const cli = node.cli(token, 'mapping:log', 'Contact', '--lines', '5').trim().split('\n');
    assert.ok(cli.length >= 1 && cli.length <= 5, cli.join('\n'));
    for (const l of cli) assert.match(l, /^\d{4}-\d\d-\d\dT\S+Z browser-node event="/);
    assert.ok(cli.some((l) => l.includes('Polling Salesforce found 1 updated records')), cli.join('\n'));
    await page.goto(node.base_url + '/#/');
    await page.waitForSelector('#mappings tr[data-object="Contact"]');
  });

  it('refuses a change without the CSRF token and changes nothing', async () => {
    const answers = await page.evaluate(async () => {
      const post = (headers) => fetch('/api/admin/Pause', { method: 'POST', headers, body: '{}' })
        .then(async (r) => ({ status: r.status, body: await r.json() }));
      return [await post({ 'Content-Type': 'application/json' }),
              await post({ 'Content-Type': 'application/json', 'X-CSRF-Token': 'forged' })];
    });
    for (const a of answers) {
      assert.equal(a.status, 403);
      assert.equal(a.body.code, 'PERMISSION_DENIED');
      assert.match(a.body.error, /CSRF/);
    }
    assert.notEqual(db.query("SELECT state FROM syncforce.connections WHERE name = 'demo'")[0][0], 'PAUSED');
    assert.ok(!audit_actions().some((a) => a.includes('connection.pause')));
  });

  it('creates a mapping with the field picker (a refused one first, its problem shown) and watches it load', async () => {
    await page.click('#nav a[href="#/new"]');
    await page.waitForSelector('#object option[value="Lead"]', { state: 'attached' });
    await page.selectOption('#object', 'Lead');
    await page.waitForSelector('#field-table tr[data-field="Company"]');
    // Id and the other system fields are always mapped: checked and locked.
    assert.equal(await page.isChecked('#f-Id'), true);
    assert.equal(await page.isDisabled('#f-Id'), true);
    const notes = await page.textContent('#field-table tr[data-field="LastName"]');
    assert.match(notes, /required/);
    for (const f of ['LastName', 'Company', 'Email']) await page.check('#f-' + f);
    // read_write needs an upsert field: the same check as the CLI's, shown next to the form.
    await page.check('input[name=access][value=read_write]');
    await page.click('#save');
    await page.waitForSelector('#problems li');
    assert.match(await page.textContent('#problems'), /upsert/i);
    assert.equal(db.query("SELECT count(*) FROM syncforce.mappings WHERE object_name = 'Lead'")[0][0], '0');
    await page.check('input[name=access][value=read_only]');
    await shot('create-mapping', page, true);
    await page.click('#save');
    await page.waitForFunction(() => location.hash === '#/mapping/Lead');
    await page.waitForFunction(() => document.querySelector('#mapping-state')?.textContent.includes('DATA_SYNCED'),
                               null, { timeout: 90000 });
    assert.equal(db.query('SELECT count(*) FROM salesforce.lead')[0][0], '25');
    const config = JSON.parse(db.query("SELECT config::text FROM syncforce.mappings WHERE object_name = 'Lead'")[0][0]);
    for (const f of ['LastName', 'Company', 'Email']) assert.ok(f in config.fields, `${f} not mapped`);
    assert.ok(audit_actions().includes('tester mapping.create'));
  });

  it('edits the mapping in the picker and asks for a reload', async () => {
    await page.click('a[href="#/edit/Lead"]');
    await page.waitForSelector('#field-table tr[data-field="Phone"]');
    assert.equal(await page.isChecked('#f-Company'), true, 'the mapped fields start checked');
    await page.fill('#field-filter', 'pho');
    assert.equal(await page.isVisible('#field-table tr[data-field="Company"]'), false, 'the filter hides the others');
    await page.check('#f-Phone');
    await page.click('#save');
    await page.waitForFunction(() => location.hash === '#/mapping/Lead');
    const config = JSON.parse(db.query("SELECT config::text FROM syncforce.mappings WHERE object_name = 'Lead'")[0][0]);
    assert.ok('Phone' in config.fields && 'Company' in config.fields, JSON.stringify(config.fields));
    await page.waitForFunction(() => document.querySelector('#mapping-state')?.textContent.includes('DATA_SYNCED'),
                               null, { timeout: 60000 });
    await page.click('#reload');
    await page.waitForFunction(() => /reload of Lead requested/.test(document.querySelector('#status').textContent));
    assert.ok(audit_actions().includes('tester mapping.edit') && audit_actions().includes('tester mapping.reload'));
    await page.waitForFunction(() => document.querySelector('#mapping-state')?.textContent.includes('DATA_SYNCED'),
                               null, { timeout: 60000 });
  });

  it('pauses and resumes the connection', async () => {
    await page.click('#nav a[href="#/"]');
    await page.waitForSelector('#pause');
    await page.click('#pause');
    await page.waitForFunction(() => document.querySelector('#connection-state')?.textContent === 'PAUSED');
    assert.equal(db.query("SELECT state FROM syncforce.connections WHERE name = 'demo'")[0][0], 'PAUSED');
    await page.click('#resume');
    await page.waitForFunction(() => {
      const s = document.querySelector('#connection-state')?.textContent;
      return s && s !== 'PAUSED';
    });
    assert.notEqual(db.query("SELECT state FROM syncforce.connections WHERE name = 'demo'")[0][0], 'PAUSED');
    const actions = audit_actions();
    assert.ok(actions.includes('tester connection.pause') && actions.includes('tester connection.resume'));
  });

  it('shows a failed write and retries it', async () => {
    db.query("INSERT INTO salesforce.contact (firstname, email, demo_key__c) VALUES ('No', 'no@example.com', 'C-bad')");
    const failed = await until('the write to fail', () =>
      db.query("SELECT id FROM salesforce._trigger_log_archive WHERE state = 'FAILED'")[0]?.[0], 60000);
    await page.goto(node.base_url + '/#/mapping/Contact');
    await page.waitForSelector(`#write-errors tr[data-id="${failed}"]`);
    assert.match(await page.textContent(`#write-errors tr[data-id="${failed}"]`), /REQUIRED_FIELD_MISSING/);
    await shot('mapping-detail');
    await page.check(`#write-errors tr[data-id="${failed}"] input[type=checkbox]`);
    await page.click('#retry');
    await page.waitForFunction(() => /queued to be written again/.test(document.querySelector('#status').textContent));
    assert.ok(audit_actions().includes('tester write_errors.retry'));
    // The writer takes the entry back (REQUEUED) and sends it again: Salesforce refuses it again
    // (LastName is still missing), which is a new failed write, listed in place of the old one.
    await until('the entry to be requeued', () =>
      db.query(`SELECT state FROM salesforce._trigger_log_archive WHERE id = ${failed}`)[0]?.[0] === 'REQUEUED');
    const again = await until('the second attempt', () =>
      db.query(`SELECT id FROM salesforce._trigger_log_archive WHERE state = 'FAILED' AND id > ${failed}`)[0]?.[0], 60000);
    await page.reload();
    await page.waitForSelector(`#write-errors tr[data-id="${again}"]`);
    assert.equal(await page.$(`#write-errors tr[data-id="${failed}"]`), null);
    // Ignoring takes it off the list for good.
    await page.check(`#write-errors tr[data-id="${again}"] input[type=checkbox]`);
    await page.click('#ignore');
    await page.waitForSelector('#no-write-errors');
    assert.equal(db.query(`SELECT state FROM salesforce._trigger_log_archive WHERE id = ${again}`)[0][0], 'IGNORED');
    // Bad requests are refused whole, saying what is wrong.
    const answers = await page.evaluate(async ([gone, failed_id]) => {
      const { csrf_token } = await fetch('/api/session').then((r) => r.json());
      const call = (body) => fetch('/api/admin/ResolveWriteErrors', { method: 'POST', body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf_token } })
        .then(async (r) => ({ status: r.status, body: await r.json() }));
      return [await call({ object_name: 'Contact', ids: [gone], action: 'retry' }),
              await call({ object_name: 'Contact', ids: [gone], action: 'forget' }),
              await call({ object_name: 'Nobody', ids: [gone], action: 'retry' }),
              await call({ object_name: 'Contact', ids: [failed_id], action: 'retry', bogus: 1 })];
    }, [again, failed]);
    assert.equal(answers[0].status, 404);
    assert.match(answers[0].body.error, new RegExp(`no failed write of Contact with id ${again}`));
    assert.equal(answers[1].status, 400);
    assert.match(answers[1].body.error, /'forget' is not retry or ignore/);
    assert.equal(answers[2].status, 404);
    assert.match(answers[2].body.error, /no mapping of Nobody/);
    assert.equal(answers[3].status, 400);
    assert.match(answers[3].body.error, /bogus/);
    assert.equal(db.query(`SELECT state FROM salesforce._trigger_log_archive WHERE id = ${again}`)[0][0], 'IGNORED');
  });

  it('imports a file with errors and shows every problem, changing nothing', async () => {
    const before = db.query('SELECT object_name, revision FROM syncforce.mappings ORDER BY 1').map((r) => r.join(':'));
    await page.click('#nav a[href="#/import"]');
    await page.waitForSelector('#import-file');
    const bad = { version: 1, mappings: [
      { object_name: 'Contact', config: { access: 'read_sometimes', fields: { LastName: {}, NoSuchField__c: {} } } },
      { object_name: 'Lead', config: { access: 'read_only', fields: { Company: {}, AlsoMissing__c: {} } } }] };
    await page.setInputFiles('#import-file', { name: 'bad.json', mimeType: 'application/json',
                                               buffer: Buffer.from(JSON.stringify(bad)) });
    await page.waitForFunction(() => document.querySelector('#import-json').value.includes('read_sometimes'));
    await page.click('#dry-run');
    await page.waitForSelector('#import-problems li');
    const problems = await page.$$eval('#import-problems li', (lis) => lis.map((li) => li.textContent));
    assert.ok(problems.length >= 1, 'no problems listed');
    for (const wrong of ['read_sometimes', 'NoSuchField__c', 'AlsoMissing__c'])
      assert.ok(problems.some((p) => p.includes(wrong)), `${wrong} not reported:\n${problems.join('\n')}`);
    await page.locator('#import-report').scrollIntoViewIfNeeded();
    await shot('import-report');
    await page.click('#apply');
    await page.waitForFunction(() => /nothing was imported/.test(document.querySelector('#status').textContent));
    assert.deepEqual(db.query('SELECT object_name, revision FROM syncforce.mappings ORDER BY 1').map((r) => r.join(':')), before);
    // A good file (the export) passes its dry run.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.deepEqual(exported.mappings.map((m) => m.object_name).sort(), ['Account', 'Contact', 'Lead']);
    await page.fill('#import-json', JSON.stringify(exported));
    await page.click('#dry-run');
    await page.waitForSelector('#import-summary');
    assert.match(await page.textContent('#import-summary'), /unchanged 3/);
  });

  it('downloads the audit trail as CSV', async () => {
    await page.click('#nav a[href="#/audit"]');
    await page.waitForSelector('#audit tbody tr');
    await shot('audit');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.trim().split('\r\n');
    assert.equal(lines[0], 'id,at,actor,action,object_type,object_id,connection,object_name,before,after');
    for (const action of ['mapping.create', 'connection.pause', 'connection.resume', 'write_errors.retry'])
      assert.ok(lines.some((l) => l.includes(',tester,' + action + ',')), `${action} missing from the CSV`);
    assert.ok(!csv.includes(token), 'the admin token leaked into the audit CSV');
    assert.equal(lines.length - 1, Number(db.query('SELECT count(*) FROM syncforce.audit_log')[0][0]));
  });

  it('deletes a mapping only once its name is typed', async () => {
    await page.goto(node.base_url + '/#/mapping/Lead');
    await page.click('#delete');
    await page.waitForSelector('#delete-dialog[open]');
    await page.fill('#confirm-name', 'Contact');
    await page.press('#confirm-name', 'Enter');
    await page.waitForFunction(() => document.querySelector('#delete-dialog .field-error')?.textContent.length > 0);
    assert.equal(db.query("SELECT count(*) FROM syncforce.mappings WHERE object_name = 'Lead'")[0][0], '1');
    await page.fill('#confirm-name', 'Lead');
    await page.press('#confirm-name', 'Enter');
    await page.waitForFunction(() => location.hash === '#/');
    await until('the mapping to go', () =>
      db.query("SELECT count(*) FROM syncforce.mappings WHERE object_name = 'Lead'")[0][0] === '0');
    assert.ok(audit_actions().includes('tester mapping.delete'));
  });

  it('shows diagnose with hints and the nodes page', async () => {
    await page.click('#nav a[href="#/diagnose"]');
    await page.waitForSelector('#diagnose-results table');
    assert.match(await page.textContent('#diagnose-results'), /passes/);
    await page.click('#nav a[href="#/nodes"]');
    await page.waitForSelector('#nodes tbody tr');
    assert.match(await page.textContent('#nodes'), /browser-node/);
  });

  it('in a cluster, shows the cursors and log lines of the node that runs them, asked over the Cluster service', async () => {
    node2 = await Node.start({ database_url: db.url, sfemu_url: emu.base_url, tokens, name: 'browser-node-2' });
    const owner = (kind, key) => db.query(`SELECT l.owner_node FROM syncforce.leases l JOIN syncforce.nodes n
      ON n.name = l.owner_node WHERE l.kind = '${kind}' AND l.key = '${key}' AND n.expires_at > clock_timestamp()`)[0]?.[0];
    const by_name = { 'browser-node': node, 'browser-node-2': node2 };
    const other_than = (name) => (name === 'browser-node' ? node2 : node);
    // The join moves a share of the work to node 2.
    await until('node 2 to run a share of the units', () =>
      db.query("SELECT count(*) FROM syncforce.leases WHERE owner_node = 'browser-node-2'")[0][0] !== '0', 60000);
    const p = await context.newPage();
    p.on('pageerror', (e) => { throw e; });
    // The cursors, on the node that does not run the user's broker.
    const user = 'integration_user', key = `${emu.base_url}|admin@sfemu.local`;
    await until('the cursors from the broker\'s node', async () => {
      const broker = owner(user, key);
      if (!broker) return false;
      await p.goto(other_than(broker).base_url + '/#/');
      await p.waitForSelector('#cursor-use', { timeout: 10000 });
      await p.waitForFunction(() => !/Asking/.test(document.querySelector('#cursors').textContent), null, { timeout: 10000 });
      const text = await p.textContent('#cursor-use');
      return text.includes('broker on node ' + broker) && owner(user, key) === broker;
    }, 60000, 500);
    // A mapping's log lines, on the node that does not run its read side.
    const id = db.query("SELECT id FROM syncforce.mappings WHERE object_name = 'Contact'")[0][0];
    await until('the log lines of the node running Contact', async () => {
      const runs = owner('mapping', id);
      if (!runs) return false;
      await p.goto(other_than(runs).base_url + '/#/mapping/Contact');
      await p.waitForSelector('#activity-log li', { timeout: 10000 });
      const lines = await p.$$eval('#activity-log li', (lis) => lis.map((li) =>
        [li.querySelector('.node').textContent, li.querySelector('code').textContent]));
      const theirs = lines.filter(([n]) => n === runs);
      if (!theirs.length) return false;
      for (const [n, line] of theirs)
        assert.ok(by_name[n].output.includes(line), `not in ${n}'s log: ${line}`);
      return owner('mapping', id) === runs;
    }, 60000, 500);
    await p.close();
  });

  it('keeps the session on another node of the same database, and signing out ends it everywhere', async () => {
    node2 ??= await Node.start({ database_url: db.url, sfemu_url: emu.base_url, tokens, name: 'browser-node-2' });
    const other = await context.newPage();
    await other.goto(node2.base_url + '/');
    await other.waitForSelector('#mappings tr[data-object="Contact"]');
    assert.match(await other.textContent('#who'), /tester \(node browser-node-2\)/);
    await other.click('#sign-out');
    await other.waitForSelector('#token');
    assert.equal(db.query("SELECT count(*) FROM syncforce.dashboard_sessions WHERE token_name = 'tester'")[0][0], '0');
    const status = await page.evaluate(() => fetch('/api/session').then((r) => r.status));
    assert.equal(status, 401);
    await page.reload();
    await page.waitForSelector('#token');
    await other.close();
  });

  it('is readable on a phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const p = await phone.newPage();
    await p.goto(node.base_url + '/');
    await p.fill('#token', token);
    await p.press('#token', 'Enter');
    await p.waitForSelector('#mappings tr[data-object="Contact"]');
    const widths = await p.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(widths[0] <= widths[1] + 1, `the page scrolls sideways: ${widths}`);
    await shot('phone', p);
    await p.click('#sign-out');
    await p.waitForSelector('#token');
    await phone.close();
  });

  it('marks the cookie Secure behind a TLS proxy and refuses a sign-in from another site', async () => {
    const over_tls = await fetch(node.base_url + '/api/session', { method: 'POST', body: JSON.stringify({ token }),
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-Proto': 'https' } });
    assert.equal(over_tls.status, 200);
    assert.match(over_tls.headers.get('set-cookie'), /; Secure/);
    const plain = await fetch(node.base_url + '/api/session', { method: 'POST', body: JSON.stringify({ token }) });
    assert.doesNotMatch(plain.headers.get('set-cookie'), /Secure/);
    const foreign = await fetch(node.base_url + '/api/session', { method: 'POST', body: JSON.stringify({ token }),
      headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example.com' } });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('set-cookie'), null);
  });
});
