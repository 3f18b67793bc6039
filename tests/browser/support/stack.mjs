// A real stack on loopback for the browser tests: a database of its own in the
// test PostgreSQL ($SYNCFORCE_TEST_DATABASE_URL, set by scripts/test), sfemu,
// and one syncforced serving the dashboard on a free port.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Sfemu, repo_root } from '../../conformance/support/sfemu.mjs';

export { Sfemu, repo_root };

const bin_dir = process.env.SYNCFORCE_BIN_DIR || path.join(repo_root, 'build', 'bin');
const psql_bin = existsSync('/usr/bin/psql') ? '/usr/bin/psql' : '/usr/lib/postgresql/15/bin/psql';

/// Polls `probe` until it returns a truthy value; fails with `what` after `timeout_ms`.
export async function until(what, probe, timeout_ms = 60000, every_ms = 200) {
  const deadline = Date.now() + timeout_ms;
  let last_error;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last_error = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}` + (last_error ? `: ${last_error.message}` : ''));
    await new Promise((r) => setTimeout(r, every_ms));
  }
}

/// One SQL statement through psql; its rows as arrays of text.
export function sql(url, statement) {
  const out = execFileSync(psql_bin, [url, '-X', '-q', '-t', '-A', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', statement],
                           { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.length).map((l) => l.split('\t'));
}

/// A database of its own, dropped by drop().
export class TestDatabase {
  static create() {
    const base = process.env.SYNCFORCE_TEST_DATABASE_URL;
    if (!base) throw new Error('SYNCFORCE_TEST_DATABASE_URL is not set: run through scripts/test');
    const name = 'dash_' + randomBytes(6).toString('hex');
    sql(base, `CREATE DATABASE ${name}`);
    const u = new URL(base);
    u.pathname = '/' + name;
    return Object.assign(new TestDatabase(), { base, name, url: u.toString() });
  }
  query(statement) { return sql(this.url, statement); }
  drop() { sql(this.base, `DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`); }
}

/// A running syncforced with the dashboard on, its token file holding `tokens` (name -> token).
const cluster_secret = 'browser-cluster-secret-' + Math.random().toString(36).slice(2);

export class Node {
  static async start({ database_url, sfemu_url, tokens, name = 'browser-node' }) {
    const work = mkdtempSync(path.join(tmpdir(), 'sf-dash-'));
    const token_file = path.join(work, 'tokens');
    writeFileSync(token_file, Object.entries(tokens).map(([n, t]) => `${n}:${t}\n`).join(''), { mode: 0o600 });
    // Every node of a test shares one cluster secret: a page on one node shows what runs on another.
    const secret_file = path.join(work, 'cluster-secret');
    writeFileSync(secret_file, cluster_secret, { mode: 0o600 });
    const host = new URL(sfemu_url).host;
    const child = spawn(path.join(bin_dir, 'syncforced'),
      ['--grpc-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0', '--node-name', name,
       '--admin-token-file', token_file, '--insecure-login-hosts', host, '--log-level', 'info',
       '--cluster-secret-file', secret_file],
      { env: { ...process.env, SYNCFORCE_DATABASE_URL: database_url, SF_PASSWORD: 'sfemu',
               SYNCFORCE_TEST_POLL_SECONDS: '2' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const node = Object.assign(new Node(), { child, work, output: '', name });
    child.stdout.on('data', (c) => { node.output += c.toString(); });
    child.stderr.on('data', (c) => { node.output += c.toString(); });
    await until('syncforced to listen', () => {
      if (child.exitCode !== null) throw new Error('syncforced exited: ' + node.output);
      const grpc = /event="gRPC server listening" port=(\d+)/.exec(node.output);
      const http = /event="Dashboard listening" port=(\d+)/.exec(node.output);
      if (!grpc || !http) return false;
      node.grpc_port = Number(grpc[1]);
      node.base_url = `http://127.0.0.1:${http[1]}`;
      return true;
    }, 30000);
    await until('the control schema', () => /event="Database ready"/.test(node.output), 30000);
    return node;
  }

  /// The CLI against this node; its stdout (throws with stderr on a non-zero exit).
  cli(token, ...args) {
    const token_file = path.join(this.work, 'cli-token');
    writeFileSync(token_file, token, { mode: 0o600 });
    return execFileSync(path.join(bin_dir, 'syncforce'),
      ['--server', `127.0.0.1:${this.grpc_port}`, '--token-file', token_file, ...args], { encoding: 'utf8' });
  }

  async stop() {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.work, { recursive: true, force: true });
  }
}

/// Where Debian's chromium binary is (the wrapper script /usr/bin/chromium adds flags we set ourselves).
export function chromium_path() {
  for (const p of [process.env.CHROMIUM_BIN, '/usr/lib/chromium/chromium', '/usr/bin/chromium'])
    if (p && existsSync(p)) return p;
  throw new Error('chromium is not installed: run scripts/setup (it installs Debian\'s chromium)');
}
