// The Syncforce dashboard: one page, no framework, nothing fetched but this
// node's own API. Every change goes through /api/admin/<Method> (the admin
// service the CLI uses) with the session's CSRF token; the page never sees the
// admin token after sign-in, and builds the DOM with text nodes only (no HTML
// from data is ever parsed).
'use strict';

const state = {
  me: null,          // {name, csrf_token, node}
  connection: '',    // the connection shown
  timer: null,       // the live refresh of the current page
};

// ---- small DOM helpers ------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const main = () => document.getElementById('main');

/// Replaces an element's children, skipping the null/false of optional parts.
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function show(...children) {
  const m = main();
  fill(m, ...children);
}

function say(text, kind = 'info') {
  const s = document.getElementById('status');
  s.className = 'status ' + kind;
  s.textContent = text;
}

function num(n) {
  const v = Number(n);
  return Number.isFinite(v) ? v.toLocaleString('en-US') : String(n);
}

// ---- the API ----------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body.error || ('HTTP ' + status));
    this.status = status;
    this.code = body.code || '';
  }
}

async function http(method, path, body) {
  const headers = { 'Accept': 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (state.me && method !== 'GET') headers['X-CSRF-Token'] = state.me.csrf_token;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                  credentials: 'same-origin' });
  let data = {};
  try { data = await res.json(); } catch (_) { /* an empty answer */ }
  if (res.status === 401 && path !== '/api/session') {
    signed_out('Your session ended: sign in again.');
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/// One admin call (the same as `syncforce <command>`).
function admin(method, request = {}) {
  if (state.connection && !('connection' in request) && method !== 'GetAuditLog')
    request.connection = state.connection;
  return http('POST', '/api/admin/' + method, request);
}

/// Runs an action with its button disabled and says how it went.
async function act(button, what, fn) {
  if (button) button.disabled = true;
  say(what + '...', 'info');
  try {
    const r = await fn();
    return r;
  } catch (e) {
    say(what + ' failed: ' + e.message, 'error');
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- sign-in ------------------------------------------------------------------------

function signed_out(message) {
  state.me = null;
  clearInterval(state.timer);
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  const error = h('p', { id: 'sign-in-error', class: 'field-error', role: 'alert' });
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password',
                             required: true, 'aria-describedby': 'token-help sign-in-error' });
  const form = h('form', { class: 'card narrow', onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      state.me = await http('POST', '/api/session', { token: input.value });
      input.value = '';
      signed_in();
    } catch (e) {
      error.textContent = e.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  } },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'token' }, 'Admin token'),
    input,
    h('p', { id: 'token-help', class: 'help' },
      'One of the tokens in the node\'s --admin-token-file (the same as the CLI\'s --token-file). ' +
      'Your changes are recorded in the audit trail under the token\'s name.'),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  show(form);
  if (message) say(message, 'info');
  input.focus();
}

function signed_in() {
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  document.getElementById('who').textContent = 'Signed in as ' + state.me.name + ' (node ' + state.me.node + ')';
  say('', 'info');
  route();
}

async function sign_out() {
  try { await http('DELETE', '/api/session'); } catch (_) { /* already gone */ }
  signed_out('Signed out.');
}

// ---- pages --------------------------------------------------------------------------

const state_class = (s) => /ERROR|FAILED|ABORTED/.test(s) ? 'bad' : /SYNCED|IDLE/.test(s) ? 'good' : 'busy';

function badge(s) { return h('span', { class: 'badge ' + state_class(s) }, s || '-'); }

function progress(m) {
  const expected = Number(m.load_rows_expected), loaded = Number(m.load_rows_loaded);
  if (!expected) return null;
  const pct = Math.min(100, Math.round(100 * loaded / expected));
  return h('span', { class: 'load' },
    h('progress', { max: String(expected), value: String(loaded), 'aria-label': 'load of ' + m.object_name }),
    ' ' + num(loaded) + ' / ' + num(expected) + ' (' + pct + '%)');
}

async function load_state() {
  const st = await admin('GetState', { connection: state.connection });
  if (!state.connection && st.connections.length === 1) state.connection = st.connections[0].name;
  return st;
}

function connection_picker(st) {
  if (st.connections.length < 2) return null;
  const sel = h('select', { id: 'connection', onchange: () => { state.connection = sel.value; route(); } },
    st.connections.map((c) => h('option', { value: c.name, selected: c.name === state.connection }, c.name)));
  return h('p', {}, h('label', { for: 'connection' }, 'Connection '), sel);
}

async function page_overview() {
  const region = h('div', {});
  show(h('h1', {}, 'Overview'), region);
  const render = async () => {
    const st = await load_state();
    const c = st.connections.find((x) => x.name === state.connection) || st.connections[0];
    if (!c) {
      fill(region, h('p', {}, 'There is no connection yet: create one with ',
        h('code', {}, 'syncforce connection:create'), ' or import a configuration.'));
      return;
    }
    state.connection = c.name;
    const features = Object.entries(c.features || {}).filter(([, v]) => v).map(([k]) => k);
    const pause = h('button', { type: 'button', id: 'pause', onclick: () => act(pause, 'Pausing', async () => {
      await admin('Pause'); say('Connection ' + c.name + ' paused.', 'ok'); render(); }) }, 'Pause');
    const resume = h('button', { type: 'button', id: 'resume', onclick: () => act(resume, 'Resuming', async () => {
      await admin('Resume'); say('Connection ' + c.name + ' resumed.', 'ok'); render(); }) }, 'Resume');
    const recover = h('button', { type: 'button', id: 'recover', onclick: () => act(recover, 'Recovering', async () => {
      await admin('Recover'); say('Recovery of ' + c.name + ' asked for.', 'ok'); render(); }) }, 'Recover');
    const rows = c.mappings.map((m) => h('tr', { 'data-object': m.object_name },
      h('th', { scope: 'row' }, h('a', { href: '#/mapping/' + encodeURIComponent(m.object_name) }, m.object_name)),
      h('td', { class: 'state' }, badge(m.state), ' ', progress(m)),
      h('td', { class: 'num rows' }, m.db_rows < 0 ? '-' : num(m.db_rows)),
      h('td', {}, m.high_water_mark || '-'),
      h('td', { class: 'num' }, num(m.pending_writes)),
      h('td', { class: 'num errors' }, num(Number(m.failed_writes_24h) + Number(m.read_errors))),
      h('td', {}, m.access)));
    fill(region,
      connection_picker(st),
      h('section', { class: 'card', 'aria-labelledby': 'conn-h' },
        h('h2', { id: 'conn-h' }, 'Connection ', c.name, ' ', h('span', { id: 'connection-state' }, badge(c.state))),
        h('dl', { class: 'facts' },
          h('dt', {}, 'Schema'), h('dd', {}, c.schema_name),
          h('dt', {}, 'Salesforce user'), h('dd', {}, c.username),
          h('dt', {}, 'Login URL'), h('dd', {}, c.login_url),
          h('dt', {}, 'API version'), h('dd', {}, c.api_version),
          h('dt', {}, 'Organization'), h('dd', {}, c.organization_id || '-'),
          h('dt', {}, 'Features'), h('dd', {}, features.length ? features.join(', ') : 'none'),
          h('dt', {}, 'Node'), h('dd', {}, st.node.name + (st.node.failure ? ' - ' + st.node.failure : ''))),
        h('p', { class: 'actions' }, pause, resume, recover)),
      h('section', { class: 'card', 'aria-labelledby': 'maps-h' },
        h('h2', { id: 'maps-h' }, 'Mappings'),
        h('div', { class: 'scroll' }, h('table', { id: 'mappings' },
          h('thead', {}, h('tr', {}, ['Object', 'State', 'Rows', 'Last poll mark', 'Pending writes', 'Errors (24 h)',
                                      'Access'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 7 }, 'No mappings yet.'))))),
        h('p', {}, h('a', { href: '#/new', class: 'button' }, 'New mapping'))),
      cursors, budget);
    render_cursors(c.name).catch((e) => fill(cursors, h('h2', { id: 'cursors-h' }, 'Query cursors'),
      h('p', { class: 'error' }, e.message)));
  };
  // The integration user's cursors as its limit broker counts them (asked of the node running it).
  const cursors = h('section', { class: 'card', id: 'cursors', 'aria-labelledby': 'cursors-h' },
    h('h2', { id: 'cursors-h' }, 'Query cursors'), h('p', {}, 'Asking the broker...'));
  const render_cursors = async (name) => {
    const l = await admin('GetLimits', { connection: name });
    if (l.unavailable) {
      fill(cursors, h('h2', { id: 'cursors-h' }, 'Query cursors'), h('p', { id: 'cursor-use' }, l.unavailable));
      return;
    }
    const holders = l.holders.map((x) => h('tr', {},
      h('td', {}, x.connection || '-'), h('td', {}, x.object_name || x.holder), h('td', {}, x.node),
      h('td', { class: 'num' }, num(x.cursors))));
    const api = Number(l.api_max) > 0 ? num(l.api_used) + ' of ' + num(l.api_max) + ' API requests used today (' +
      num(Number(l.api_max) - Number(l.api_used)) + ' left), as Salesforce last reported' : 'No API usage reported yet.';
    fill(cursors, h('h2', { id: 'cursors-h' }, 'Query cursors of ', l.username),
      h('p', { id: 'cursor-use' }, num(l.cursors_in_use) + ' in use of ' +
        (l.cursor_limit ? num(l.cursor_limit) : 'no limit') + ', ' + num(l.waiting) + ' waiting (peak ' +
        num(l.cursors_peak) + ', waited ' + num(l.delayed) + ' times); broker on node ' + l.broker_node +
        (Number(l.recovering_for_ms) > 0 ? ' (recovering: grants again in ' + num(l.recovering_for_ms) + ' ms)' : '')),
      h('p', { id: 'broker-api' }, api),
      holders.length ? h('div', { class: 'scroll' }, h('table', { id: 'cursor-holders' },
        h('caption', {}, 'Who holds them'),
        h('thead', {}, h('tr', {}, ['Connection', 'Mapping', 'Node', 'Cursors'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, holders))) : h('p', { id: 'no-cursor-holders' }, 'No cursor held right now.'));
  };
  // The API budget comes from Salesforce (a login): once per visit, not every refresh.
  const budget = h('section', { class: 'card', 'aria-labelledby': 'budget-h' },
    h('h2', { id: 'budget-h' }, 'Salesforce API budget'), h('p', { id: 'budget' }, 'Asking Salesforce...'));
  await render();
  state.timer = setInterval(() => render().catch((e) => say(e.message, 'error')), 3000);
  admin('Diagnose', { verbose: true }).then((d) => {
    const b = d.results.find((r) => r.rule_id === 'API_BUDGET');
    budget.querySelector('#budget').textContent = b ? b.message : 'Salesforce did not tell.';
  }).catch((e) => { budget.querySelector('#budget').textContent = e.message; });
}

async function page_mapping(object) {
  const head = h('div', {});
  const writes = h('section', { class: 'card', 'aria-labelledby': 'we-h' });
  const reads = h('section', { class: 'card', 'aria-labelledby': 're-h' });
  const activity = h('section', { class: 'card', 'aria-labelledby': 'ac-h' });
  const trail = h('section', { class: 'card', 'aria-labelledby': 'at-h' });
  show(h('h1', {}, 'Mapping ', object), head, activity, writes, reads, trail);
  // The mapping's log lines from the nodes that run it, as Heroku Connect shows its log.
  const render_activity = async () => {
    const log = await admin('GetMappingLog', { object_name: object, limit: 100 });
    const lines = log.lines.slice().reverse(); // newest first
    fill(activity, h('h2', { id: 'ac-h' }, 'Recent activity'),
      h('p', { class: 'hint' }, 'Log lines of nodes ' + (log.nodes.join(', ') || '-') + ', newest first' +
        (log.unavailable.length ? '; not reachable: ' + log.unavailable.join('; ') : '') + '.'),
      lines.length ? h('ol', { id: 'activity-log', class: 'activity log' }, lines.map((l) =>
        h('li', { class: 'level-' + l.level }, h('time', {}, l.at), ' ', h('span', { class: 'node' }, l.node), ' ',
          h('code', {}, l.text)))) :
        h('p', { id: 'no-activity' }, 'No log lines yet on the nodes that run it.'));
  };
  const render_head = async () => {
    const st = await load_state();
    const c = st.connections.find((x) => x.name === state.connection) || st.connections[0];
    const m = c && c.mappings.find((x) => x.object_name.toLowerCase() === object.toLowerCase());
    if (!m) { fill(head, h('p', { class: 'error' }, 'No mapping of ' + object + '.')); return; }
    const config = JSON.parse(m.config_json || '{}');
    const fields = Object.keys(config.fields || {});
    const reload = h('button', { type: 'button', id: 'reload', onclick: () => act(reload, 'Reloading', async () => {
      const r = await admin('ReloadMapping', { object_name: m.object_name }); say(r.message, 'ok'); render_head(); }) },
      'Reload');
    const abort = h('button', { type: 'button', id: 'abort', onclick: () => act(abort, 'Aborting', async () => {
      const r = await admin('AbortMapping', { object_name: m.object_name }); say(r.message, 'ok'); render_head(); }) },
      'Abort load');
    const del = h('button', { type: 'button', id: 'delete', class: 'danger', onclick: () => confirm_delete(m.object_name) },
      'Delete...');
    fill(head, h('section', { class: 'card' },
      h('dl', { class: 'facts' },
        h('dt', {}, 'State'), h('dd', { id: 'mapping-state' }, badge(m.state), ' ', m.state_description, ' ', progress(m)),
        h('dt', {}, 'Rows'), h('dd', {}, m.db_rows < 0 ? '-' : num(m.db_rows)),
        h('dt', {}, 'Access'), h('dd', {}, m.access),
        h('dt', {}, 'Upsert field'), h('dd', {}, config.upsert_field || '-'),
        h('dt', {}, 'Polling'), h('dd', {}, (config.sf_polling_seconds || '-') + ' s'),
        h('dt', {}, 'Last poll mark'), h('dd', {}, m.high_water_mark || '-'),
        h('dt', {}, 'Pending writes'), h('dd', {}, num(m.pending_writes) +
          (m.oldest_pending_write_at ? ' (oldest ' + m.oldest_pending_write_at + ')' : '')),
        h('dt', {}, 'Pending command'), h('dd', {}, m.pending_command || '-'),
        h('dt', {}, 'Fields'), h('dd', {}, fields.join(', '))),
      h('p', { class: 'actions' }, h('a', { class: 'button', href: '#/edit/' + encodeURIComponent(m.object_name) }, 'Edit'),
        reload, abort, del)));
  };
  const render_errors = async () => {
    const we = await admin('GetWriteErrors', { object_name: object });
    const checks = [];
    const rows = we.errors.map((e) => {
      const cb = h('input', { type: 'checkbox', value: e.id, 'aria-label': 'select failed write ' + e.id });
      checks.push(cb);
      return h('tr', { 'data-id': e.id }, h('td', {}, cb), h('td', {}, e.processed_at), h('td', {}, e.action),
        h('td', { class: 'num' }, e.record_id), h('td', {}, e.sfid || '-'), h('td', { class: 'msg' }, e.message));
    });
    const resolve = (action, button) => act(button, action === 'retry' ? 'Retrying' : 'Ignoring', async () => {
      const ids = checks.filter((c) => c.checked).map((c) => c.value);
      if (!ids.length) { say('Select the failed writes first.', 'error'); return; }
      const r = await admin('ResolveWriteErrors', { object_name: object, ids, action });
      say(r.message, 'ok');
      render_errors();
    });
    const retry = h('button', { type: 'button', id: 'retry', onclick: () => resolve('retry', retry) }, 'Retry selected');
    const ignore = h('button', { type: 'button', id: 'ignore', onclick: () => resolve('ignore', ignore) }, 'Ignore selected');
    fill(writes, h('h2', { id: 'we-h' }, 'Write errors (last 24 hours)'),
      rows.length ? h('div', { class: 'scroll' }, h('table', { id: 'write-errors' },
        h('thead', {}, h('tr', {}, ['', 'When', 'Action', 'Row id', 'sfid', 'Salesforce said'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows))) : h('p', { id: 'no-write-errors' }, 'No failed writes.'),
      rows.length ? h('p', { class: 'actions' }, retry, ignore) : null);
    const re = await admin('GetReadErrors', { object_name: object });
    fill(reads, h('h2', { id: 're-h' }, 'Read errors'),
      re.errors.length ? h('div', { class: 'scroll' }, h('table', { id: 'read-errors' },
        h('thead', {}, h('tr', {}, ['sfid', 'Field', 'Error', 'Value', 'Last seen', 'Times'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, re.errors.map((e) => h('tr', {}, h('td', {}, e.sfid), h('td', {}, e.field), h('td', {}, e.error),
          h('td', {}, e.value_excerpt), h('td', {}, e.last_seen), h('td', { class: 'num' }, e.count)))))) :
        h('p', {}, 'No records set aside.'));
    const audit = await admin('GetAuditLog', { limit: 200 });
    const mine = audit.entries.filter((e) => (e.object_name || '').toLowerCase() === object.toLowerCase()).slice(0, 20);
    fill(trail, h('h2', { id: 'at-h' }, 'Audit trail'),
      mine.length ? h('ul', { id: 'mapping-audit', class: 'activity' }, mine.map((e) => h('li', {}, e.at + ' ' + e.actor + ': ' + e.action))) :
        h('p', {}, 'Nothing recorded yet.'));
  };
  await render_head();
  await render_activity().catch((e) => fill(activity, h('h2', { id: 'ac-h' }, 'Recent activity'), h('p', { class: 'error' }, e.message)));
  await render_errors();
  state.timer = setInterval(() => Promise.all([render_head(), render_activity()]).catch((e) => say(e.message, 'error')), 3000);
}

function confirm_delete(object) {
  const input = h('input', { id: 'confirm-name', autocomplete: 'off' });
  const error = h('p', { class: 'field-error', role: 'alert' });
  const dialog = h('dialog', { id: 'delete-dialog', 'aria-labelledby': 'del-h' },
    h('form', { method: 'dialog', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const r = await admin('DeleteMapping', { object_name: object, confirm: input.value });
        dialog.close(); dialog.remove(); say(r.message, 'ok'); location.hash = '#/';
      } catch (e) { error.textContent = e.message; input.focus(); }
    } },
      h('h2', { id: 'del-h' }, 'Delete the mapping of ' + object + '?'),
      h('p', {}, 'Its table and unsent changes are dropped. Type ', h('code', {}, object), ' to confirm.'),
      h('label', { for: 'confirm-name' }, 'Object name'), input, error,
      h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Delete'),
        h('button', { type: 'button', onclick: () => { dialog.close(); dialog.remove(); } }, 'Cancel'))));
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}

// ---- create / edit with the field picker ---------------------------------------------

async function page_picker(edit_object) {
  const area = h('div', {});
  show(h('h1', {}, edit_object ? 'Edit the mapping of ' + edit_object : 'New mapping'), area);
  let current = null;
  if (edit_object) {
    const st = await load_state();
    const c = st.connections.find((x) => x.name === state.connection) || st.connections[0];
    current = c && c.mappings.find((x) => x.object_name.toLowerCase() === edit_object.toLowerCase());
    if (!current) { fill(area, h('p', { class: 'error' }, 'No mapping of ' + edit_object + '.')); return; }
    current.config = JSON.parse(current.config_json || '{}');
  }
  const object_select = h('select', { id: 'object', name: 'object', disabled: !!edit_object });
  const fields_area = h('div', { id: 'fields-area' });
  fill(area, h('form', { class: 'card', id: 'picker', onsubmit: (ev) => ev.preventDefault() },
    h('label', { for: 'object' }, 'Salesforce object'), object_select,
    h('p', { class: 'field-error', id: 'object-error', role: 'alert' }), fields_area));
  if (edit_object) {
    object_select.append(h('option', { value: current.object_name }, current.object_name));
  } else {
    say('Reading the org\'s objects...', 'info');
    const list = await admin('DescribeObject', {});
    say('', 'info');
    object_select.append(h('option', { value: '' }, 'Choose an object'),
      ...list.objects.map((o) => h('option', { value: o.name }, o.name + (o.label && o.label !== o.name ? ' (' + o.label + ')' : ''))));
    object_select.addEventListener('change', () => object_select.value && describe(object_select.value));
  }
  async function describe(name) {
    fill(fields_area, h('p', {}, 'Describing ' + name + '...'));
    let d;
    try { d = await admin('DescribeObject', { object_name: name }); } catch (e) {
      fill(fields_area, h('p', { class: 'field-error', role: 'alert' }, e.message)); return;
    }
    const chosen = new Set(current ? Object.keys(current.config.fields || {}).map((f) => f.toLowerCase()) : []);
    const filter = h('input', { id: 'field-filter', type: 'search', placeholder: 'Filter fields' });
    const rows = d.fields.map((f) => {
      const id = 'f-' + f.name;
      const cb = h('input', { type: 'checkbox', id, name: 'field', value: f.name,
        checked: f.system || chosen.has(f.name.toLowerCase()), disabled: f.system || !!f.not_mappable });
      return h('tr', { 'data-field': f.name },
        h('td', {}, cb),
        h('th', { scope: 'row' }, h('label', { for: id }, f.name)),
        h('td', {}, f.label),
        h('td', {}, f.type + (f.length ? '(' + f.length + ')' : '') + (f.pg_type ? ' -> ' + f.pg_type : '')),
        h('td', {}, [f.required ? 'required' : '', f.external_id ? 'external id' : '', f.unique ? 'unique' : '',
                     f.system ? 'always synced' : '', f.not_mappable].filter(Boolean).join(', ')),
        h('td', { class: 'field-error', id: 'err-' + f.name }));
    });
    filter.addEventListener('input', () => {
      const q = filter.value.toLowerCase();
      for (const r of rows) r.hidden = q && !r.dataset.field.toLowerCase().includes(q);
    });
    const ext = d.fields.filter((f) => f.external_id || f.name === 'Id');
    const access_value = current ? current.access : 'read_only';
    const access = h('fieldset', { id: 'access' }, h('legend', {}, 'Access'),
      ['read_only', 'read_write'].map((a) => h('label', { class: 'inline' },
        h('input', { type: 'radio', name: 'access', value: a, checked: a === access_value }),
        a === 'read_only' ? ' Read only (Salesforce to PostgreSQL)' : ' Read and write (changes in PostgreSQL go to Salesforce)')),
      h('p', { class: 'field-error', id: 'access-error' }));
    const upsert = h('select', { id: 'upsert-field', name: 'upsert_field' },
      h('option', { value: '' }, 'None'),
      ext.filter((f) => f.name !== 'Id').map((f) => h('option', { value: f.name,
        selected: current && (current.config.upsert_field || '').toLowerCase() === f.name.toLowerCase() }, f.name)));
    const polling = h('input', { id: 'polling', type: 'number', min: '1', step: '1',
      value: String(current ? (current.config.sf_polling_seconds || 600) : 600) });
    const general = h('ul', { id: 'problems', class: 'problems', role: 'alert' });
    const submit = h('button', { type: 'button', class: 'primary', id: 'save' }, edit_object ? 'Save changes' : 'Create mapping');
    submit.addEventListener('click', () => act(submit, edit_object ? 'Saving' : 'Creating', async () => {
      for (const el of fields_area.querySelectorAll('.field-error')) el.textContent = '';
      fill(general);
      const picked = [...fields_area.querySelectorAll('input[name=field]:checked')].filter((c) => !c.disabled).map((c) => c.value);
      const acc = fields_area.querySelector('input[name=access]:checked').value;
      let r;
      try {
        if (edit_object) {
          const before = new Set(Object.keys(current.config.fields || {}));
          const lower = new Set(picked.map((p) => p.toLowerCase()));
          const sys = new Set(d.fields.filter((f) => f.system).map((f) => f.name.toLowerCase()));
          r = await admin('EditMapping', { object_name: current.object_name,
            add_fields: picked.filter((p) => ![...before].some((b) => b.toLowerCase() === p.toLowerCase())),
            remove_fields: [...before].filter((b) => !lower.has(b.toLowerCase()) && !sys.has(b.toLowerCase())),
            access: acc === current.access ? '' : acc,
            upsert_field: upsert.value, clear_upsert_field: !upsert.value && !!current.config.upsert_field,
            polling_seconds: Number(polling.value) === Number(current.config.sf_polling_seconds) ? 0 : Number(polling.value) });
        } else {
          r = await admin('CreateMapping', { object_name: d.object_name, fields: picked, access: acc,
            upsert_field: upsert.value, polling_seconds: Number(polling.value) || 0 });
        }
      } catch (e) {
        general.append(h('li', {}, e.message));
        say((edit_object ? 'Saving' : 'Creating') + ' was refused: ' + e.message, 'error');
        return;
      }
      if (r.rejected && r.rejected.problems && r.rejected.problems.length) {
        show_problems(r.rejected, fields_area, general);
        say(r.rejected.summary, 'error');
        return;
      }
      say(edit_object ? 'Mapping of ' + r.object_name + ' changed.' : 'Mapping of ' + r.object_name + ' created: its table is being loaded.', 'ok');
      location.hash = '#/mapping/' + encodeURIComponent(r.object_name);
    }));
    fill(fields_area,
      h('h2', {}, d.object_name + (d.label ? ' (' + d.label + ')' : '')),
      h('label', { for: 'field-filter' }, 'Fields'), filter,
      h('div', { class: 'scroll picker' }, h('table', { id: 'field-table' },
        h('thead', {}, h('tr', {}, ['Map', 'Field', 'Label', 'Type', 'Notes', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows))),
      access,
      h('label', { for: 'upsert-field' }, 'Upsert field (an external id; needed for read and write)'), upsert,
      h('p', { class: 'field-error', id: 'upsert-error' }),
      h('label', { for: 'polling' }, 'Poll Salesforce every (seconds)'), polling,
      h('p', { class: 'field-error', id: 'polling-error' }),
      general,
      h('p', { class: 'actions' }, submit));
  }
  if (edit_object) await describe(current.object_name);
}

/// Puts each problem next to what it is about; the rest in the list below the form.
function show_problems(rejection, area, general) {
  for (const p of rejection.problems) {
    const field = /fields\.([^.]+)$/.exec(p.path);
    let target = null;
    if (field) target = area.querySelector('#err-' + CSS.escape(field[1]));
    else if (/upsert_field/.test(p.path)) target = area.querySelector('#upsert-error');
    else if (/access/.test(p.path)) target = area.querySelector('#access-error');
    else if (/polling/.test(p.path)) target = area.querySelector('#polling-error');
    if (target) target.textContent = p.message;
    general.append(h('li', {}, h('code', {}, p.path), ': ', p.message));
  }
}

// ---- import / export ------------------------------------------------------------------

async function page_import() {
  const file = h('input', { id: 'import-file', type: 'file', accept: '.json,application/json' });
  const text = h('textarea', { id: 'import-json', rows: '10', spellcheck: 'false' });
  const report = h('div', { id: 'import-report', role: 'region', 'aria-live': 'polite' });
  file.addEventListener('change', async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  const run = (dry_run, button) => act(button, dry_run ? 'Checking' : 'Importing', async () => {
    fill(report);
    const r = await admin('ImportConfiguration', { json: text.value, dry_run });
    if (r.rejected && r.rejected.problems && r.rejected.problems.length) {
      report.append(h('h2', {}, r.rejected.summary),
        h('ul', { class: 'problems', id: 'import-problems' }, r.rejected.problems.map((p) =>
          h('li', {}, h('code', {}, p.path), ': ', p.message))));
      say(r.rejected.summary, 'error');
      return;
    }
    report.append(h('h2', {}, dry_run ? 'Dry run: nothing was changed' : 'Imported'),
      h('p', { id: 'import-summary' }, (dry_run ? 'Would create ' : 'Created ') + r.mappings_created + ', changed ' +
        r.mappings_changed + ', unchanged ' + r.mappings_unchanged + ' mappings' +
        (r.connection_changed ? '; the connection\'s settings change' : '') + '.'),
      r.warnings.length ? h('ul', {}, r.warnings.map((w) => h('li', {}, w))) : null);
    say(dry_run ? 'The file is valid.' : 'Imported.', 'ok');
  });
  const dry = h('button', { type: 'button', id: 'dry-run', onclick: () => run(true, dry) }, 'Check (dry run)');
  const apply = h('button', { type: 'button', id: 'apply', class: 'primary', onclick: () => run(false, apply) }, 'Import');
  show(h('h1', {}, 'Import and export'),
    h('section', { class: 'card' }, h('h2', {}, 'Export'),
      h('p', {}, 'The connection\'s mappings as Heroku Connect\'s import/export JSON (never a secret).'),
      h('a', { class: 'button', id: 'export', href: '/api/export.json?connection=' + encodeURIComponent(state.connection),
               download: 'syncforce-export.json' }, 'Download the export')),
    h('section', { class: 'card' }, h('h2', {}, 'Import'),
      h('p', {}, 'Validated against Salesforce in full before anything changes: all or nothing.'),
      h('label', { for: 'import-file' }, 'File'), file,
      h('label', { for: 'import-json' }, 'or paste the JSON'), text,
      h('p', { class: 'actions' }, dry, apply), report));
}

// ---- audit, diagnose, nodes --------------------------------------------------------------

async function page_audit() {
  const log = await admin('GetAuditLog', { limit: 200 });
  show(h('h1', {}, 'Audit trail'),
    h('p', {}, h('a', { class: 'button', id: 'audit-csv', href: '/api/audit.csv', download: 'syncforce-audit.csv' },
      'Download as CSV')),
    h('div', { class: 'scroll' }, h('table', { id: 'audit' },
      h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Connection', 'Object', 'After'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, log.entries.map((e) => h('tr', {}, h('td', {}, e.at), h('td', {}, e.actor), h('td', {}, e.action),
        h('td', {}, e.connection), h('td', {}, e.object_name), h('td', { class: 'json' }, e.after_json)))))));
}

async function page_diagnose() {
  const out = h('div', { id: 'diagnose-results' });
  const run = h('button', { type: 'button', class: 'primary', id: 'run-diagnose', onclick: () => act(run, 'Diagnosing', async () => {
    const d = await admin('Diagnose', { verbose: true });
    fill(out, h('p', {}, d.errors + ' errors, ' + d.warnings + ' warnings, ' + d.passes + ' passes, ' + d.skips + ' skipped'),
      h('div', { class: 'scroll' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Check', 'Object', 'Result', 'What', 'Hint'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, d.results.map((r) => h('tr', {}, h('td', {}, r.display_name || r.rule_id), h('td', {}, r.object_name),
          h('td', {}, h('span', { class: 'badge ' + (r.status === 'PASS' ? 'good' : r.status === 'ERROR' ? 'bad' : 'busy') }, r.status)),
          h('td', {}, r.message), h('td', {}, r.hint)))))));
    say('Diagnose done.', 'ok');
  }) }, 'Run the checks');
  show(h('h1', {}, 'Diagnose'), h('p', {}, 'Credentials, API version and budget, write backlog, failed writes and states, each with a hint.'),
    run, out);
  run.click();
}

async function page_nodes() {
  const n = await http('GET', '/api/nodes');
  const runs = (name) => (n.leases || []).filter((l) => l.owner_node === name).map((l) => l.kind + ' ' + l.what);
  const rows = n.nodes.map((node) => h('tr', {},
    h('th', { scope: 'row' }, node.name + (node.name === n.answered_by ? ' (this page)' : '')),
    h('td', {}, node.version || '-'),
    h('td', {}, node.heartbeat_at || '-'),
    h('td', {}, n.cluster ? (runs(node.name).join(', ') || 'nothing') : 'every connection')));
  show(h('h1', {}, 'Nodes'),
    h('p', {}, n.cluster ? 'The cluster\'s nodes and what each runs (their leases).' :
      'A single node: no node has registered in the cluster tables, so this one runs every connection.'),
    h('div', { class: 'scroll' }, h('table', { id: 'nodes' },
      h('thead', {}, h('tr', {}, ['Node', 'Version', 'Last heartbeat', 'Runs'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))));
}

// ---- routing ------------------------------------------------------------------------------

async function route() {
  clearInterval(state.timer);
  if (!state.me) return;
  const hash = location.hash || '#/';
  const [, page, arg] = /^#\/([^/]*)\/?(.*)$/.exec(hash) || [null, '', ''];
  const object = decodeURIComponent(arg || '');
  for (const a of document.querySelectorAll('#nav a'))
    a.setAttribute('aria-current', a.getAttribute('href') === '#/' + page ? 'page' : 'false');
  try {
    if (page === 'mapping') await page_mapping(object);
    else if (page === 'new') await page_picker('');
    else if (page === 'edit') await page_picker(object);
    else if (page === 'import') await page_import();
    else if (page === 'audit') await page_audit();
    else if (page === 'diagnose') await page_diagnose();
    else if (page === 'nodes') await page_nodes();
    else await page_overview();
    main().focus({ preventScroll: true });
  } catch (e) {
    if (e.status !== 401) show(h('p', { class: 'error', role: 'alert' }, e.message));
  }
}

window.addEventListener('hashchange', () => { say('', 'info'); route(); });
document.addEventListener('DOMContentLoaded', async () => {
  document.getElementById('sign-out').addEventListener('click', sign_out);
  try {
    state.me = await http('GET', '/api/session');
    signed_in();
  } catch (_) {
    signed_out('');
  }
});
