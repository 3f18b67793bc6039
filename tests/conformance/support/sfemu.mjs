// Shared support for the jsforce conformance suite: starts the real sfemu
// binary, drives its control API (/__sfemu/...), and loads jsforce from the
// repository's node_modules (installed by scripts/setup with `npm ci`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo_root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/// The default user of a fresh sfemu org (see docs/sfemu.md).
export const admin_user = 'admin@sfemu.local';
export const admin_password = 'sfemu';

// ---- jsforce -----------------------------------------------------------------

/// jsforce, unmodified, from node_modules. A missing install is a test FAILURE
/// with a clear remedy, never a silent skip.
export async function load_jsforce() {
  const require = createRequire(path.join(repo_root, 'package.json'));
  let entry;
  try {
    entry = require.resolve('jsforce');
  } catch {
    throw new Error(
      `jsforce is not installed (no ${path.join(repo_root, 'node_modules', 'jsforce')}): ` +
        'run scripts/setup (it runs `npm ci` from package-lock.json)',
    );
  }
  const mod = await import(entry);
  return mod.default ?? mod;
}

export const jsforce = await load_jsforce();

// ---- the sfemu process ---------------------------------------------------------

/// Where the sfemu binary is: $SFEMU_BIN, else build/bin/sfemu in the repo.
export function sfemu_bin() {
  return process.env.SFEMU_BIN || path.join(repo_root, 'build', 'bin', 'sfemu');
}

const listening_re = /sfemu listening on (http:\/\/127\.0\.0\.1:(\d+))/;

/// A running sfemu (`--port 0`), started for one test file and stopped after it.
export class Sfemu {
  constructor(child, base_url) {
    this.child = child;
    this.base_url = base_url;
    this.output = '';
  }

  /// Starts sfemu with extra arguments and waits for its "listening" line.
  static async start(extra_args = [], { timeout_ms = 15000 } = {}) {
    const bin = sfemu_bin();
    if (!existsSync(bin)) {
      throw new Error(`sfemu binary not found at ${bin} (build it, or set SFEMU_BIN)`);
    }
    const child = spawn(bin, ['--port', '0', ...extra_args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const base_url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`sfemu did not print its listening line within ${timeout_ms} ms; output:\n${output}`));
      }, timeout_ms);
      const on_data = (chunk) => {
        output += chunk.toString();
        const m = listening_re.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout.on('data', on_data);
      child.stderr.on('data', (chunk) => {
        output += chunk.toString();
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`sfemu exited early (code ${code}, signal ${signal}); output:\n${output}`));
      });
    });
    // Keep draining the pipes so sfemu never blocks on a full pipe.
    child.stdout.removeAllListeners('data');
    child.stdout.resume();
    child.stderr.removeAllListeners('data');
    child.stderr.resume();
    child.removeAllListeners('exit');
    const emu = new Sfemu(child, base_url);
    emu.output = output;
    return emu;
  }

  /// Stops sfemu (SIGTERM, then SIGKILL if it does not exit within 5 s).
  async stop() {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  // ---- control API (/__sfemu/...), documented in docs/sfemu.md -------------------

  /// Calls the control API; returns the parsed JSON (or text) body, throws on >= 400.
  async control(method, route, body) {
    const headers = {};
    let payload;
    if (body !== undefined) {
      if (typeof body === 'string') {
        headers['content-type'] = 'text/csv';
        payload = body;
      } else {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(body);
      }
    }
    const res = await fetch(`${this.base_url}/__sfemu/${route}`, { method, headers, body: payload });
    const text = await res.text();
    if (res.status >= 400) {
      throw new Error(`sfemu control ${method} /__sfemu/${route} -> ${res.status}: ${text}`);
    }
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      return text;
    }
  }

  reset() {
    return this.control('POST', 'reset');
  }

  /// Adds custom objects / fields: `{objects:[{name, label, fields:[...]}]}`.
  load_schema(schema) {
    return this.control('POST', 'schema', schema);
  }

  /// Inserts records of one object directly (no API-limit accounting); returns their ids.
  async load_records(object, records) {
    const res = await this.control('POST', `records/${encodeURIComponent(object)}`, records);
    return res;
  }

  /// Makes every current session invalid (the next REST call gets 401 INVALID_SESSION_ID).
  expire_sessions() {
    return this.control('POST', 'sessions/expire');
  }

  /// Changes org settings, e.g. `{legacy_cursors: 'always'}` (see docs/sfemu.md).
  settings(settings) {
    return this.control('POST', 'settings', settings);
  }

  counters() {
    return this.control('GET', 'counters');
  }
}

// ---- jsforce helpers ---------------------------------------------------------------

export const api_version = '60.0';

/// A jsforce Connection logged in to `emu` with the default user (SOAP login
/// unless `oauth` is given, in which case the OAuth password flow is used).
export async function login(emu, { version = api_version, oauth = false, user = admin_user, password = admin_password } = {}) {
  const options = { loginUrl: emu.base_url, version };
  if (oauth) {
    options.oauth2 = new jsforce.OAuth2({
      clientId: 'sfemu-conformance',
      clientSecret: 'sfemu-conformance-secret',
      loginUrl: emu.base_url,
    });
  }
  const conn = new jsforce.Connection(options);
  await conn.login(user, password);
  return conn;
}

/// Collects every record a jsforce record stream emits.
export function collect_records(stream) {
  return new Promise((resolve, reject) => {
    const records = [];
    stream.on('record', (r) => records.push(r));
    stream.on('error', reject);
    stream.on('end', () => resolve(records));
  });
}

/// Runs `fn` and returns the error it throws (fails when it throws nothing).
export async function rejection(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
