#include "store/control_schema.hpp"

namespace syncforce::store {

const std::vector<migration>& control_schema_migrations() {
  static const std::vector<migration> all{
    {1, "nodes, connections, mappings, leases, audit log", R"sql(
CREATE TABLE syncforce.nodes (
  name         text PRIMARY KEY,
  grpc_address text NOT NULL,
  version      text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE syncforce.connections (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL UNIQUE,
  schema_name   text NOT NULL DEFAULT 'salesforce',
  state         text NOT NULL DEFAULT 'NEW',
  login_url     text NOT NULL,
  auth_method   text NOT NULL CHECK (auth_method IN ('password', 'jwt')),
  username      text NOT NULL,
  -- where the secret lives (env:NAME or file:/path), never the secret itself
  secret_ref    text NOT NULL,
  client_id     text,
  api_version   text NOT NULL DEFAULT '60.0',
  organization_id text,
  features      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE syncforce.mappings (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  connection_id     uuid NOT NULL REFERENCES syncforce.connections (id) ON DELETE CASCADE,
  object_name       text NOT NULL,
  config            jsonb NOT NULL,
  revision          integer NOT NULL DEFAULT 1,
  state             text NOT NULL DEFAULT 'INITIAL',
  state_description text NOT NULL DEFAULT '',
  high_water_mark   timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (connection_id, object_name)
);

-- Ownership of connections, mappings and integration users across the cluster,
-- with fencing: a write made under a stale epoch is refused.
CREATE TABLE syncforce.leases (
  kind        text NOT NULL CHECK (kind IN ('connection', 'mapping', 'integration_user')),
  key         text NOT NULL,
  owner_node  text,
  epoch       bigint NOT NULL DEFAULT 0,
  expires_at  timestamptz,
  PRIMARY KEY (kind, key)
);

CREATE TABLE syncforce.audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL,
  object_type text NOT NULL,
  object_id   text,
  before      jsonb,
  after       jsonb
);
CREATE INDEX audit_log_at_idx ON syncforce.audit_log (at);
)sql"},
    {2, "connection client secret reference", R"sql(
-- where the OAuth client secret lives (env:NAME or file:/path), never the secret itself
ALTER TABLE syncforce.connections ADD COLUMN client_secret_ref text;
)sql"},
    {3, "load checkpoints: a full load resumes where it stopped", R"sql(
-- One row per mapping while a full load runs into its shadow table <t>__reload;
-- updated in the transaction that commits each page, deleted by the swap.
CREATE TABLE syncforce.load_checkpoints (
  mapping_id    uuid PRIMARY KEY REFERENCES syncforce.mappings (id) ON DELETE CASCADE,
  method        text NOT NULL CHECK (method IN ('rest', 'bulk')),
  -- the shadow table's columns: a load resumes only into the same shape
  shape         text NOT NULL,
  -- where polling starts once the load is swapped in (latest stamp before the load read anything)
  start_mark    timestamptz,
  expected_rows bigint NOT NULL DEFAULT 0,
  rows_loaded   bigint NOT NULL DEFAULT 0,
  last_id       text,  -- rest: the load reads ORDER BY Id; resume after this one
  bulk_job_id   text,  -- bulk: the query job whose results are being read
  bulk_locator  text,  -- bulk: the locator of the next results page
  started_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
)sql"},
    {4, "ordered writes: a failed insert stops its mapping's queue", R"sql(
-- Set when an INSERT failed under ordered writes: {"entry": <log id>, "record_id": <row id>, "message": "..."}.
-- The mapping's later changes wait until that row is recaptured (hc_capture_insert_from_row) and written.
ALTER TABLE syncforce.mappings ADD COLUMN write_block jsonb;
)sql"},
    {5, "admin commands: reload, abort and recover wait here for the connection's node", R"sql(
-- Set by the admin API, taken (and cleared) by the node that runs the connection.
ALTER TABLE syncforce.mappings ADD COLUMN command text CHECK (command IN ('reload', 'abort', 'recover'));
ALTER TABLE syncforce.mappings ADD COLUMN command_at timestamptz;
-- Who made a change to which connection (the audit trail is read by connection).
ALTER TABLE syncforce.audit_log ADD COLUMN connection_id uuid;
ALTER TABLE syncforce.audit_log ADD COLUMN connection_name text;
ALTER TABLE syncforce.audit_log ADD COLUMN object_name text;
)sql"},
    {6, "in-doubt creates: sent to Salesforce, result not yet recorded", R"sql(
-- Written (and committed) before a plain create (no upsert field) is sent, removed
-- in the transaction that records its result. A row left here means the create may
-- or may not have made a record: the writer reconciles it with Salesforce before
-- the entry can be sent again.
CREATE TABLE syncforce.write_in_doubt (
  connection_id uuid NOT NULL REFERENCES syncforce.connections (id) ON DELETE CASCADE,
  entry_id      bigint NOT NULL,
  table_name    text NOT NULL,
  record_id     bigint,
  object_name   text NOT NULL,
  sent_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  record        jsonb NOT NULL,
  PRIMARY KEY (connection_id, entry_id)
);
)sql"},
    {7, "keyset polls: the high-water mark's record id", R"sql(
-- Polls read SystemModstamp > mark OR (SystemModstamp = mark AND Id > high_water_id): the
-- largest (stamp, Id) already applied, stored with the rows. NULL (marks stored before this
-- migration, or set by an admin command) polls SystemModstamp >= mark once, then moves to keyset.
ALTER TABLE syncforce.mappings ADD COLUMN high_water_id text;
-- A load's start mark comes with the largest Id at that stamp.
ALTER TABLE syncforce.load_checkpoints ADD COLUMN start_id text;
)sql"},
    {8, "read errors: Salesforce records set aside because PostgreSQL refuses a value", R"sql(
-- One row per record a load, poll or backfill could not store (a text longer than its column,
-- a date PostgreSQL has no representation for, ...). The rest of the page arrives; the record's
-- row is cleared when it later arrives clean. Values are excerpts, never an encrypted field's.
CREATE TABLE syncforce.read_errors (
  mapping_id    uuid NOT NULL REFERENCES syncforce.mappings (id) ON DELETE CASCADE,
  connection_id uuid NOT NULL REFERENCES syncforce.connections (id) ON DELETE CASCADE,
  object_name   text NOT NULL,
  sfid          text NOT NULL,
  field         text NOT NULL DEFAULT '',
  error         text NOT NULL,
  value_excerpt text NOT NULL DEFAULT '',
  operation     text NOT NULL,  -- load, poll or backfill: what last read it
  first_seen    timestamptz NOT NULL DEFAULT now(),
  last_seen     timestamptz NOT NULL DEFAULT now(),
  count         bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (mapping_id, sfid)
);
CREATE INDEX read_errors_connection_idx ON syncforce.read_errors (connection_id, object_name);
)sql"},
    {9, "cluster: node liveness and fenced unit leases", R"sql(
-- A node is live while expires_at (renewed by its heartbeat) is in the future,
-- on PostgreSQL's clock. Each (re)join starts a new incarnation and gives up
-- every lease the node held before.
ALTER TABLE syncforce.nodes ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE syncforce.nodes ADD COLUMN incarnation bigint NOT NULL DEFAULT 1;
-- Units of work: a mapping's read side, a connection's writer, an integration
-- user's broker. A lease is held while owner_node is live; every take bumps the
-- epoch, and every state write under the lease checks (owner_node, epoch) in its
-- own transaction. Lease expiry is the owner node's expiry.
ALTER TABLE syncforce.leases DROP CONSTRAINT IF EXISTS leases_kind_check;
ALTER TABLE syncforce.leases ADD CONSTRAINT leases_kind_check
  CHECK (kind IN ('mapping', 'writer', 'integration_user'));
ALTER TABLE syncforce.leases DROP COLUMN expires_at;
ALTER TABLE syncforce.leases ADD COLUMN acquired_at timestamptz;
ALTER TABLE syncforce.leases ADD COLUMN moves bigint NOT NULL DEFAULT 0;
)sql"},
    {10, "dashboard sessions, shared by every node behind one address", R"sql(
-- A signed-in browser: only the SHA-256 of its cookie is stored (a database
-- dump signs nobody in), the admin token's name it acts under (never the token:
-- the node looks the token up by name, so removing it from the token file ends
-- its sessions), and the CSRF token its page must send with every change.
CREATE TABLE syncforce.dashboard_sessions (
  id_hash     bytea PRIMARY KEY,
  token_name  text NOT NULL,
  csrf_token  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  created_by_node text NOT NULL DEFAULT ''
);
CREATE INDEX dashboard_sessions_expires_idx ON syncforce.dashboard_sessions (expires_at);
)sql"},
    {11, "schema-swap cutovers: progress that survives a node crash, and the write fence", R"sql(
-- One row per `syncforce cutover`: the runner writes every step here before taking it, so a
-- node that restarts (or any node, once the runner's session is gone) rolls an unfinished
-- cutover back, or finishes one whose switch committed. At most one runs per connection.
CREATE TABLE syncforce.cutovers (
  id                   bigserial PRIMARY KEY,
  source_connection_id uuid NOT NULL REFERENCES syncforce.connections (id) ON DELETE CASCADE,
  target_connection_id uuid NOT NULL REFERENCES syncforce.connections (id) ON DELETE CASCADE,
  source_schema        text NOT NULL,
  target_schema        text NOT NULL,
  -- [{"object_name", "table", "source_mapping_id", "target_mapping_id"}]
  tables               jsonb NOT NULL,
  -- the dependent objects and role settings, with the SQL that carries them (the plan)
  plan                 jsonb NOT NULL,
  step                 text NOT NULL DEFAULT 'planned'
                       CHECK (step IN ('planned', 'prepared', 'fenced', 'drained', 'caught_up', 'switched')),
  status               text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'rolled_back')),
  actor                text NOT NULL,
  node                 text NOT NULL,
  error                text,
  started_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  fenced_at            timestamptz,
  switched_at          timestamptz,
  finished_at          timestamptz
);
CREATE UNIQUE INDEX cutovers_one_running_source ON syncforce.cutovers (source_connection_id) WHERE status = 'running';
CREATE UNIQUE INDEX cutovers_one_running_target ON syncforce.cutovers (target_connection_id) WHERE status = 'running';

-- The write fence a cutover puts on the tables it moves: application writes are refused with
-- a clear error (never queued, never lost) from the moment the fence commits. The engine's own
-- sessions (xmlbinary = hex: loads, polls, write-back results) pass. After the switch the fence
-- stays on the old tables: a session that still resolves the old schema is told to reconnect.
-- TG_ARGV: the target schema, the cutover id.
CREATE FUNCTION syncforce.cutover_fence() RETURNS trigger LANGUAGE plpgsql AS $fence$
BEGIN
  IF current_setting('xmlbinary', true) = 'hex' THEN
    IF TG_LEVEL = 'STATEMENT' OR TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'object_in_use',
    MESSAGE = format('writes to %I.%I are refused: syncforce cutover %s moves it to schema %s', TG_TABLE_SCHEMA,
                     TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[0]),
    HINT = format('retry on a new connection: once the cutover is done the application roles'' search_path '
                  'starts with %s', TG_ARGV[0]);
END
$fence$;
)sql"},
    {12, "schema-swap cutovers pause both connections for the switch, and resume what they paused", R"sql(
-- The connections a cutover set PAUSED (the source once drained, the target once caught up).
-- The switch resumes them in its own transaction; a rollback (or the settling of an
-- interrupted cutover) resumes them too: never a connection the user had paused.
ALTER TABLE syncforce.cutovers ADD COLUMN paused_connections uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE syncforce.cutovers DROP CONSTRAINT cutovers_step_check;
ALTER TABLE syncforce.cutovers ADD CONSTRAINT cutovers_step_check
  CHECK (step IN ('planned', 'prepared', 'fenced', 'drained', 'caught_up', 'paused', 'switched'));
)sql"},
    {13, "read repair: what each mapping's look-back sweep and formula repair last did", R"sql(
-- One row per mapping and kind ('sweep': late commits; 'formula': calculated fields), written
-- in the transaction that ends the run, under the mapping's lease. `checked`: records compared,
-- `fetched`: records read again in full (sweep) or rows found different (formula),
-- `repaired`: rows the run changed. The totals add up every run since the mapping was created.
CREATE TABLE syncforce.read_repairs (
  mapping_id     uuid NOT NULL REFERENCES syncforce.mappings (id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('sweep', 'formula')),
  last_run_at    timestamptz NOT NULL,
  window_from    timestamptz,
  window_to      timestamptz,
  checked        bigint NOT NULL DEFAULT 0,
  fetched        bigint NOT NULL DEFAULT 0,
  repaired       bigint NOT NULL DEFAULT 0,
  api_calls      bigint NOT NULL DEFAULT 0,
  runs           bigint NOT NULL DEFAULT 0,
  total_checked  bigint NOT NULL DEFAULT 0,
  total_fetched  bigint NOT NULL DEFAULT 0,
  total_repaired bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (mapping_id, kind)
);
)sql"},
    {14, "change events: each accelerated mapping's Pub/Sub replay id, stored with the rows it applied", R"sql(
-- One row per mapping that subscribes to its object's change events (sf_notify_enabled).
-- `replay_id` is the last event whose effect is in the table: written in the transaction
-- that applies the event's rows, under the mapping's lease, so a restart resumes right
-- after it (nothing applied twice, nothing skipped). NULL: subscribe from the newest event
-- and catch up by a keyset poll. The counters add up since the row was made: `applied`
-- events that changed the table's rows (or found them current), `echoes` events of the
-- engine's own writes, `catch_ups` polls asked for (gaps, overflows, expired replay ids).
CREATE TABLE syncforce.change_event_marks (
  mapping_id     uuid PRIMARY KEY REFERENCES syncforce.mappings (id) ON DELETE CASCADE,
  topic          text NOT NULL,
  replay_id      bigint,
  events         bigint NOT NULL DEFAULT 0,
  applied        bigint NOT NULL DEFAULT 0,
  echoes         bigint NOT NULL DEFAULT 0,
  catch_ups      bigint NOT NULL DEFAULT 0,
  last_event_at  timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
)sql"},
  };
  return all;
}

namespace {

int current_version(pqxx::transaction_base& tx) {
  auto exists = tx.exec1("SELECT to_regclass('syncforce.schema_migrations') IS NOT NULL");
  if (!exists[0].as<bool>())
    return 0;
  return tx.exec1("SELECT COALESCE(MAX(version), 0) FROM syncforce.schema_migrations")[0].as<int>();
}

} // namespace

migration_report migrate_control_schema(pqxx::connection& conn) {
  pqxx::work tx(conn, "migrate_control_schema");
  tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(migration_lock_key) + ")");
  tx.exec("CREATE SCHEMA IF NOT EXISTS syncforce");
  tx.exec(R"sql(
CREATE TABLE IF NOT EXISTS syncforce.schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql");
  migration_report report;
  report.from_version = current_version(tx);
  report.to_version = report.from_version;
  for (const auto& m : control_schema_migrations()) {
    if (m.version <= report.from_version)
      continue;
    tx.exec(m.sql);
    tx.exec("INSERT INTO syncforce.schema_migrations (version, name) VALUES (" + tx.quote(m.version) + ", " +
            tx.quote(m.name) + ")");
    report.applied.push_back(m.version);
    report.to_version = m.version;
  }
  tx.commit();
  return report;
}

int control_schema_version(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  return current_version(tx);
}

} // namespace syncforce::store
