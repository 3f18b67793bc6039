// Conformance: the npm package salesforce-pubsub-api-client (pinned in package-lock.json,
// unmodified) subscribes to sfemu's change events over the Pub/Sub API (gRPC over TLS)
// and receives create, update and delete events with decoded payloads (its own Avro
// decoding with the schema from GetSchema, its own changedFields bitmap parsing), then
// replays from a stored replay id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { repo_root, sfemu_bin, admin_user, admin_password } from './support/sfemu.mjs';

const require = createRequire(path.join(repo_root, 'package.json'));
let PubSubApiClient;
try {
  const mod = require('salesforce-pubsub-api-client');
  PubSubApiClient = mod.default ?? mod.PubSubApiClient ?? mod;
} catch (err) {
  throw new Error('salesforce-pubsub-api-client is not installed: run scripts/setup (npm ci)', { cause: err });
}

const cert_path = path.join(os.tmpdir(), `sfemu-pubsub-conformance-${process.pid}.pem`);
let child;
let base_url;
let grpc_endpoint;
let ca;

/// HTTPS to sfemu, trusting only the certificate it wrote.
function call(method, url_path, { body, headers = {} } = {}) {
  const url = new URL(url_path, base_url);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const all = { ...headers };
  if (payload !== undefined) {
    all['content-type'] ??= 'application/json';
    all['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers: all, ca }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = text;
        }
        if (res.statusCode >= 400) reject(new Error(`${method} ${url_path} -> ${res.statusCode}: ${text}`));
        else resolve(json);
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/// Polls `condition` until it is true or `timeout_ms` passes.
async function eventually(condition, what, timeout_ms = 20000) {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let token;
let done = false; // the test is over: stream errors from sfemu stopping are expected

before(async () => {
  const bin = sfemu_bin();
  assert.ok(existsSync(bin), `sfemu binary not found at ${bin}`);
  child = spawn(bin, ['--port', '0', '--tls', '--tls-cert-out', cert_path, '--pubsub-port', '0',
    '--pubsub-keepalive-seconds', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sfemu did not start; output:\n${output}`)), 15000);
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      const listening = /sfemu listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(output);
      const pubsub = /sfemu pubsub on (127\.0\.0\.1:\d+) \(tls\)/.exec(output);
      if (listening && pubsub) {
        clearTimeout(timer);
        base_url = listening[1];
        grpc_endpoint = pubsub[1];
        resolve();
      }
    });
    child.stderr.on('data', (chunk) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`sfemu exited (${code}); output:\n${output}`)));
  });
  child.removeAllListeners('exit');
  child.stdout.resume();
  ca = readFileSync(cert_path);
  token = await call('POST', '/services/oauth2/token', {
    body: `grant_type=password&client_id=c&client_secret=s&username=${admin_user}&password=${admin_password}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.match(token.instance_url, /^https:\/\//);
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(cert_path, { force: true });
});

function new_client() {
  return new PubSubApiClient(
    {
      authType: 'user-supplied',
      accessToken: token.access_token,
      instanceUrl: token.instance_url,
      organizationId: token.id.split('/id/')[1].split('/')[0],
      pubSubEndpoint: grpc_endpoint,
      rejectUnauthorizedSsl: false, // sfemu's certificate is self-signed
    },
    quiet,
  );
}

const rest = (method, p, body) =>
  call(method, `/services/data/v60.0/${p}`, {
    body,
    headers: { authorization: `Bearer ${token.access_token}`, 'sforce-call-options': 'client=conformance' },
  });

test('create, update and delete events arrive decoded, and a stored replay id replays the rest', async () => {
  const client = new_client();
  await client.connect();
  const events = [];
  const errors = [];
  let keepalives = 0;
  await client.subscribe('/data/AccountChangeEvent', (info, type, data) => {
    if (type === 'event') events.push(data);
    else if (type === 'grpcKeepAlive') keepalives += 1;
    else if (type === 'error' && !done) errors.push(data);
  }, 10);
  // the subscription starts at the tip: wait until the server has set it up (its keepalive)
  await eventually(() => keepalives > 0 || errors.length > 0, 'the first keepalive');
  assert.deepEqual(errors, []);

  const created = await rest('POST', 'sobjects/Account', { Name: 'Acme', Phone: '555' });
  await rest('PATCH', `sobjects/Account/${created.id}`, { Name: 'Acme 2', Phone: null });
  await rest('DELETE', `sobjects/Account/${created.id}`);
  await eventually(() => events.length >= 3 || errors.length > 0, 'three events');
  assert.deepEqual(errors, []);

  // The client decodes each FetchResponse in an async handler that may wait for GetSchema,
  // so its callbacks can come out of order: order by replay id (sfemu's commit order).
  const [c, u, d] = [...events].sort((a, b) => a.replayId - b.replayId);
  assert.equal(c.payload.ChangeEventHeader.changeType, 'CREATE');
  assert.equal(c.payload.ChangeEventHeader.entityName, 'Account');
  assert.deepEqual(c.payload.ChangeEventHeader.recordIds, [created.id]);
  assert.equal(c.payload.ChangeEventHeader.changeOrigin, 'com/salesforce/api/rest/60.0;client=conformance');
  assert.equal(c.payload.Name, 'Acme');
  assert.equal(c.payload.Phone, '555');
  assert.equal(u.payload.ChangeEventHeader.changeType, 'UPDATE');
  assert.equal(u.payload.Name, 'Acme 2');
  assert.equal(u.payload.Phone, null);
  assert.ok(u.payload.ChangeEventHeader.changedFields.includes('Name'), JSON.stringify(u.payload.ChangeEventHeader));
  assert.ok(u.payload.ChangeEventHeader.changedFields.includes('Phone'));
  assert.ok(u.payload.ChangeEventHeader.changedFields.includes('LastModifiedDate'));
  assert.deepEqual(u.payload.ChangeEventHeader.nulledFields, ['Phone']);
  assert.equal(d.payload.ChangeEventHeader.changeType, 'DELETE');
  assert.deepEqual(d.payload.ChangeEventHeader.recordIds, [created.id]);
  assert.ok(c.replayId < u.replayId && u.replayId < d.replayId);

  // A restarted subscriber resumes after the replay id it stored (the create's).
  const again = new_client();
  await again.connect();
  const replayed = [];
  await again.subscribeFromReplayId('/data/AccountChangeEvent', (info, type, data) => {
    if (type === 'event') replayed.push(data);
    else if (type === 'error' && !done) errors.push(data);
  }, 2, c.replayId);
  await eventually(() => replayed.length >= 2 || errors.length > 0, 'two replayed events');
  assert.deepEqual(errors, []);
  replayed.sort((a, b) => a.replayId - b.replayId);
  assert.deepEqual(replayed.map((e) => e.replayId), [u.replayId, d.replayId]);
  assert.deepEqual(replayed.map((e) => e.payload.ChangeEventHeader.changeType), ['UPDATE', 'DELETE']);
  // Not client.close(): it removes the subscriptions' listeners but leaves their gRPC
  // calls open, so stopping sfemu afterwards would raise an unhandled stream error. The
  // streams end when sfemu stops (after()); their callbacks see that as an 'error'.
  done = true;
});
