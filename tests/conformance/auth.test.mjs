// jsforce, unchanged, logging in to sfemu: OAuth password flow, SOAP login,
// identity URL, wrong passwords, and a session expiring mid-work.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createSign } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Sfemu, jsforce, admin_user, admin_password, api_version, login, rejection, collect_records } from './support/sfemu.mjs';

const id18 = /^[a-zA-Z0-9]{18}$/;

describe('auth', { timeout: 60000 }, () => {
  let emu;
  before(async () => {
    emu = await Sfemu.start();
  });
  after(async () => {
    await emu?.stop();
  });

  it('OAuth password flow with a client id and secret', async () => {
    const oauth2 = new jsforce.OAuth2({ clientId: 'conformance-app', clientSecret: 'conformance-secret', loginUrl: emu.base_url });
    const conn = new jsforce.Connection({ oauth2, version: api_version });
    const user_info = await conn.login(admin_user, admin_password);
    assert.equal(conn._sessionType, 'oauth2', 'jsforce must have used the OAuth2 password flow');
    assert.ok(conn.accessToken, 'no access token');
    assert.equal(conn.instanceUrl, emu.base_url);
    assert.match(user_info.id, id18);
    assert.ok(user_info.id.startsWith('005'), `user id ${user_info.id} lacks the User key prefix 005`);
    assert.match(user_info.organizationId, id18);
    assert.ok(user_info.organizationId.startsWith('00D'));

    const res = await conn.query(`SELECT Id, Username FROM User WHERE Username = '${admin_user}'`);
    assert.equal(res.totalSize, 1);
    assert.equal(res.records[0].Id, user_info.id);

    const identity = await conn.identity();
    assert.equal(identity.user_id, user_info.id);
    assert.equal(identity.organization_id, user_info.organizationId);
    assert.equal(identity.username, admin_user);
  });

  it('OAuth password flow with a wrong password fails with invalid_grant', async () => {
    const oauth2 = new jsforce.OAuth2({ clientId: 'conformance-app', clientSecret: 'conformance-secret', loginUrl: emu.base_url });
    const conn = new jsforce.Connection({ oauth2, version: api_version });
    const err = await rejection(() => conn.login(admin_user, 'not-the-password'));
    assert.equal(err.name, 'invalid_grant');
    assert.match(err.message, /authentication failure/);
    assert.ok(!err.message.includes('not-the-password'), 'the password leaked into the error');
  });

  it('SOAP login without a client id', async () => {
    const conn = new jsforce.Connection({ loginUrl: emu.base_url, version: api_version });
    const user_info = await conn.login(admin_user, admin_password);
    assert.equal(conn._sessionType, 'soap', 'jsforce must have used the SOAP login');
    assert.ok(conn.accessToken);
    assert.equal(conn.instanceUrl, emu.base_url);
    assert.match(user_info.id, id18);
    assert.ok(user_info.id.startsWith('005'));
    assert.ok(user_info.organizationId.startsWith('00D'));
    const res = await conn.query('SELECT Id, Name FROM Account LIMIT 1');
    assert.equal(typeof res.totalSize, 'number');
    assert.ok(Array.isArray(res.records));
    // The identity URL jsforce builds from the SOAP answer must work too.
    const identity = await conn.identity();
    assert.equal(identity.user_id, user_info.id);
  });

  it('SOAP login with a wrong password fails with INVALID_LOGIN', async () => {
    const conn = new jsforce.Connection({ loginUrl: emu.base_url, version: api_version });
    const err = await rejection(() => conn.login(admin_user, 'wrong'));
    assert.match(err.message, /^INVALID_LOGIN: Invalid username, password, security token; or user locked out\./);
  });

  it('a request without a session gets 401 INVALID_SESSION_ID', async () => {
    const conn = new jsforce.Connection({ instanceUrl: emu.base_url, accessToken: 'not-a-session', version: api_version });
    const err = await rejection(() => conn.query('SELECT Id FROM Account'));
    assert.equal(err.errorCode, 'INVALID_SESSION_ID');
    assert.equal(err.message, 'Session expired or invalid');
  });

  for (const oauth of [false, true]) {
    it(`a session expiring mid-work: jsforce logs in again by itself (${oauth ? 'OAuth' : 'SOAP'} login)`, async () => {
      const conn = await login(emu, { oauth });
      const refreshed = [];
      conn.on('refresh', (token) => refreshed.push(token));
      const first_token = conn.accessToken;
      const before_expiry = await conn.query('SELECT Id FROM User');
      assert.ok(before_expiry.totalSize >= 1);

      await emu.expire_sessions();

      // The old token is now refused...
      const stale = new jsforce.Connection({ instanceUrl: emu.base_url, accessToken: first_token, version: api_version });
      const err = await rejection(() => stale.query('SELECT Id FROM User'));
      assert.equal(err.errorCode, 'INVALID_SESSION_ID');

      // ...yet the logged-in connection carries on: 401, re-login, retry.
      const after_expiry = await conn.query('SELECT Id FROM User');
      assert.equal(after_expiry.totalSize, before_expiry.totalSize);
      assert.equal(refreshed.length, 1, 'jsforce should have refreshed the session exactly once');
      assert.notEqual(conn.accessToken, first_token);
    });
  }

  it('a session expiring before a Bulk 2.0 call: jsforce recognises 401 INVALID_SESSION_ID there too', async () => {
    const conn = await login(emu);
    const first_token = conn.accessToken;
    await emu.expire_sessions();
    const stream = await conn.bulk2.query('SELECT Id, Username FROM User', { pollInterval: 100, pollTimeout: 20000 });
    const records = await collect_records(stream);
    assert.ok(records.length >= 1);
    assert.ok(records.some((r) => r.Username === admin_user));
    assert.notEqual(conn.accessToken, first_token);
  });
});

/// An RS256 JWT (as the Salesforce CLI builds for the JWT bearer flow).
function sign_jwt(claims, private_key) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(private_key).toString('base64url');
  return `${unsigned}.${signature}`;
}

describe('JWT bearer flow (--jwt-cert)', { timeout: 30000 }, () => {
  const jwt_grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other_keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let dir;
  let emu;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sfemu-jwt-'));
    const pem = path.join(dir, 'server.pub.pem');
    writeFileSync(pem, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    emu = await Sfemu.start(['--jwt-cert', pem]);
  });
  after(async () => {
    await emu?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const claims = () => ({ iss: 'jwt-app', sub: admin_user, aud: emu.base_url, exp: Math.floor(Date.now() / 1000) + 300 });

  it('a signed assertion logs in through conn.authorize()', async () => {
    const conn = new jsforce.Connection({ loginUrl: emu.base_url, version: api_version });
    const user_info = await conn.authorize({ grant_type: jwt_grant, assertion: sign_jwt(claims(), keys.privateKey) });
    assert.ok(user_info.id.startsWith('005'));
    assert.equal(conn.instanceUrl, emu.base_url);
    const res = await conn.query(`SELECT Id FROM User WHERE Username = '${admin_user}'`);
    assert.equal(res.records[0].Id, user_info.id);
  });

  it('a wrong signature, an expired assertion or a wrong audience is invalid_grant', async () => {
    const attempt = (assertion) =>
      rejection(() => new jsforce.Connection({ loginUrl: emu.base_url, version: api_version }).authorize({ grant_type: jwt_grant, assertion }));
    let err = await attempt(sign_jwt(claims(), other_keys.privateKey));
    assert.equal(err.name, 'invalid_grant');
    err = await attempt(sign_jwt({ ...claims(), exp: Math.floor(Date.now() / 1000) - 60 }, keys.privateKey));
    assert.equal(err.name, 'invalid_grant');
    err = await attempt(sign_jwt({ ...claims(), aud: 'https://example.com' }, keys.privateKey));
    assert.equal(err.name, 'invalid_grant');
  });
});
