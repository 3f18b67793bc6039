#include "store/hc_schema.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace syncforce::store {

// ---------------------------------------------------------------------------
// names
// ---------------------------------------------------------------------------

namespace {

constexpr std::size_t max_identifier = 63; // NAMEDATALEN - 1

/// Schema-wide HC DDL (the schema, _trigger_log, _hcmeta and their functions): one at a time in a
/// database (two nodes creating one schema at once), and never beside a table's DDL.
constexpr const char* schema_ddl_lock = "SELECT pg_advisory_xact_lock(hashtext('syncforce.hc_schema'))";

/// One table's DDL (the table, its shadow, sequence, indexes, triggers and their functions: every
/// name its own): waits for schema-wide DDL (a shared hold of its lock) and for DDL of the same
/// table, but not for other tables'. Under the one exclusive lock every table of a node's mappings
/// was created one after another whatever the sync workers (1,000 mappings at start: the workers
/// waited on the lock most of the time). Each caller does one table per transaction, so a
/// transaction never holds two of these (no lock order to keep).
void lock_table_ddl(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  tx.exec("SELECT pg_advisory_xact_lock_shared(hashtext('syncforce.hc_schema'))");
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('syncforce.hc_schema'), hashtext($1))", schema + "." + table);
}

/// Dollar-quote tag for function bodies.
constexpr const char* body_tag = "$hc_body$";

} // namespace

std::string pg_identifier(std::string name) {
  if (name.size() <= max_identifier)
    return name;
  // Cut at a UTF-8 character boundary, as PostgreSQL does.
  std::size_t n = max_identifier;
  while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80)
    --n;
  name.resize(n);
  return name;
}

std::string qualified_name(const pqxx::transaction_base& tx, const std::string& schema,
                           const std::string& name) {
  return tx.quote_name(schema) + "." + tx.quote_name(pg_identifier(name));
}

hc_table_names hc_names_for(const std::string& table) {
  hc_table_names n;
  n.table = pg_identifier(table);
  n.sequence = pg_identifier(table + "_id_seq");
  n.primary_key = pg_identifier(table + "_pkey");
  n.logger = pg_identifier("hc_" + table + "_logger");
  n.log_trigger = pg_identifier("hc_" + table + "_logtrigger");
  n.status = pg_identifier("hc_" + table + "_status");
  n.status_trigger = pg_identifier("hc_" + table + "_status_trigger");
  return n;
}

std::vector<hc_index_def> hc_index_defs(const hc_table_spec& spec) {
  std::vector<hc_index_def> out;
  auto add = [&](const std::string& column, bool unique) {
    auto name = pg_identifier((unique ? "hcu_idx_" : "hc_idx_") + spec.table + "_" + column);
    for (const auto& d : out)
      if (d.name == name || (d.column == column && d.unique == unique))
        return;
    out.push_back(hc_index_def{name, column, unique});
  };
  add("sfid", true);
  if (spec.find_column("systemmodstamp") != nullptr)
    add("systemmodstamp", false);
  for (const auto& i : spec.indexes)
    add(i.column, i.unique);
  // The upsert field is a unique External ID in Salesforce: Heroku Connect gives
  // it the unique hcu_idx_<t>_<field>, so `ON CONFLICT (field)` works and a
  // duplicate key is refused in PostgreSQL already.
  if (spec.upsert_column)
    add(*spec.upsert_column, true);
  return out;
}

std::string unique_index_problem::describe(const std::string& schema, const std::string& table) const {
  std::string list;
  for (const auto& e : examples)
    list += (list.empty() ? "" : ", ") + e;
  return "cannot make " + index + " on " + schema + "." + table + " unique: " + std::to_string(duplicate_values)
         + (duplicate_values == 1 ? " value" : " values") + " of " + column + " " + (duplicate_values == 1 ? "is" : "are")
         + " held by more than one row (" + list + "); the non-unique " + fallback_index
         + " serves meanwhile. Resolve the duplicates (keep one row per value or clear the others' " + column
         + "); the unique index is built when the mapping next starts (node restart) or reloads";
}

std::string reload_table_name(const std::string& table) {
  return pg_identifier(table + "__reload");
}

// ---------------------------------------------------------------------------
// catalog helpers
// ---------------------------------------------------------------------------

namespace {

bool relation_exists(pqxx::transaction_base& tx, const std::string& qname) {
  auto r = tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", qname);
  return r[0].as<bool>();
}

bool trigger_exists(pqxx::transaction_base& tx, const std::string& qtable, const std::string& name) {
  auto r = tx.exec_params(
    "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2 AND NOT tgisinternal",
    qtable, name);
  return !r.empty();
}

/// Creates or replaces a plpgsql function unless its body is already `body`.
/// `signature` is the regprocedure text (`"s"."f"(public.hstore, ...)`);
/// `header` everything before AS.
void ensure_function(pqxx::transaction_base& tx, const std::string& signature,
                     const std::string& header, const std::string& body) {
  if (body.find(body_tag) != std::string::npos)
    throw std::invalid_argument("function body contains its own quote tag");
  auto r = tx.exec_params("SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure($1)", signature);
  if (!r.empty() && r[0][0].as<std::string>() == body)
    return;
  tx.exec0(header + " AS " + body_tag + body + body_tag);
}

std::string literal(const pqxx::transaction_base& tx, const std::string& text) {
  return tx.quote(text);
}

// ---------------------------------------------------------------------------
// function bodies (section 3 of the reference)
// ---------------------------------------------------------------------------

std::string notify_body(const pqxx::transaction_base& tx, const std::string& schema) {
  return "\n  BEGIN\n"
         "    -- syncforce: Heroku Connect compatible\n"
         "    PERFORM pg_notify("
         + literal(tx, schema + ".hc_trigger_log")
         + ", 'ping');\n"
           "    RETURN NEW;\n"
           "  END;\n";
}

std::string get_xmlbinary_body() {
  // Heroku Connect reads `setting FROM pg_settings WHERE name = 'xmlbinary'`,
  // which materializes every setting on each call (about 1 ms, twice per row
  // written). current_setting() returns the same value in microseconds.
  return "\n  BEGIN\n"
         "    RETURN current_setting('xmlbinary');\n"
         "  END;\n";
}

std::string logger_body(const pqxx::transaction_base& tx, const std::string& schema,
                        mapping_access access) {
  const std::string log = qualified_name(tx, schema, "_trigger_log");
  const bool read_only = access == mapping_access::read_only;
  const std::string new_state = read_only ? "'READONLY'" : "'NEW'";
  std::string b;
  b += "\n  DECLARE\n";
  b += "    trigger_row " + log + ";\n";
  b += "    excluded_cols text[] = ARRAY['_hc_lastop', '_hc_err']::text[];\n";
  b += "    changed public.hstore;\n";
  b += "  BEGIN\n";
  b += "    trigger_row = ROW();\n";
  b += "    trigger_row.id = nextval(" + literal(tx, qualified_name(tx, schema, "_trigger_log_id_seq"))
       + "::regclass);\n";
  b += "    trigger_row.action = TG_OP::text;\n";
  b += "    trigger_row.table_name = TG_TABLE_NAME::text;\n";
  b += "    trigger_row.txid = txid_current();\n";
  b += "    trigger_row.created_at = clock_timestamp();\n";
  // updated_at stays NULL until the writer processes the entry, as Heroku Connect leaves it.
  b += "    trigger_row.state = " + new_state + ";\n";
  b += "    IF (TG_OP = 'DELETE') THEN\n";
  b += "      trigger_row.record_id = OLD.id;\n";
  b += "      trigger_row.old = public.delete(public.hstore(OLD.*), excluded_cols);\n";
  b += "      IF (OLD.sfid IS NOT NULL) THEN\n";
  b += "        trigger_row.sfid = OLD.sfid;\n";
  if (!read_only) {
    b += "      ELSE\n";
    b += "        trigger_row.state = 'IGNORE';\n";
  }
  b += "      END IF;\n";
  b += "    ELSIF (TG_OP = 'INSERT') THEN\n";
  b += "      trigger_row.record_id = NEW.id;\n";
  b += "      trigger_row.values = public.delete(public.hstore(NEW.*), excluded_cols);\n";
  b += "    ELSIF (TG_OP = 'UPDATE') THEN\n";
  b += "      trigger_row.record_id = NEW.id;\n";
  b += "      trigger_row.old = public.delete(public.hstore(OLD.*), excluded_cols);\n";
  b += "      changed = public.delete(public.delete(public.hstore(NEW.*), public.hstore(OLD.*)), "
       "excluded_cols);\n";
  b += "      trigger_row.values = changed;\n";
  b += "      trigger_row.sfid = OLD.sfid;\n";
  if (!read_only) {
    b += "      IF (changed::text = '') THEN\n";
    b += "        trigger_row.state = 'IGNORE';\n";
    b += "      END IF;\n";
  }
  b += "    END IF;\n";
  b += "    INSERT INTO " + log + " VALUES (trigger_row.*);\n";
  b += "    RETURN NULL;\n";
  b += "  END;\n";
  return b;
}

std::string status_body() {
  return "\n  BEGIN\n"
         "    IF (public.get_xmlbinary()::text = 'base64') THEN -- a user's write\n"
         "      NEW._hc_lastop = 'PENDING';\n"
         "      NEW._hc_err = NULL;\n"
         "      RETURN NEW;\n"
         "    END IF;\n"
         "    -- the sync engine's write: keep an explicitly set _hc_lastop\n"
         "    IF (TG_OP = 'INSERT' AND NEW._hc_lastop IS NOT NULL)\n"
         "       OR (TG_OP = 'UPDATE' AND NEW._hc_lastop IS NOT NULL\n"
         "           AND NEW._hc_lastop IS DISTINCT FROM OLD._hc_lastop) THEN\n"
         "      RETURN NEW;\n"
         "    END IF;\n"
         "    NEW._hc_lastop = 'SYNCED';\n"
         "    NEW._hc_err = NULL;\n"
         "    RETURN NEW;\n"
         "  END;\n";
}

std::string capture_insert_body(const pqxx::transaction_base& tx, const std::string& schema) {
  return "\n  DECLARE\n"
         "    excluded_cols_standard text[] = ARRAY['_hc_lastop', '_hc_err']::text[];\n"
         "    retval integer;\n"
         "  BEGIN\n"
         "    IF (public.fetchval(source_row, 'id')) IS NULL THEN\n"
         "      -- source_row must carry the row's integer id\n"
         "      RETURN NULL;\n"
         "    END IF;\n"
         "    excluded_cols_standard := array_remove(array_remove(excluded_cols, 'id'), 'sfid')\n"
         "                              || excluded_cols_standard;\n"
         "    INSERT INTO "
         + qualified_name(tx, schema, "_trigger_log")
         + " (action, table_name, txid, created_at, state, record_id, \"values\")\n"
           "    VALUES ('INSERT', table_name, txid_current(), clock_timestamp(), 'NEW',\n"
           "            (public.fetchval(source_row, 'id'))::integer,\n"
           "            public.delete(source_row, excluded_cols_standard))\n"
           "    RETURNING id INTO retval;\n"
           "    RETURN retval;\n"
           "  END;\n";
}

std::string capture_update_body(const pqxx::transaction_base& tx, const std::string& schema) {
  return "\n  DECLARE\n"
         "    excluded_cols_standard text[] = ARRAY['_hc_lastop', '_hc_err']::text[];\n"
         "    retval integer;\n"
         "    vals public.hstore;\n"
         "  BEGIN\n"
         "    IF (public.fetchval(source_row, 'id')) IS NULL THEN\n"
         "      -- source_row must carry the row's integer id\n"
         "      RETURN NULL;\n"
         "    END IF;\n"
         "    IF coalesce(array_length(columns_to_include, 1), 0) > 0 THEN\n"
         "      vals := public.slice(source_row, columns_to_include);\n"
         "    ELSE\n"
         "      vals := source_row;\n"
         "    END IF;\n"
         "    INSERT INTO "
         + qualified_name(tx, schema, "_trigger_log")
         + " (action, table_name, txid, created_at, state, record_id, sfid, \"values\", "
           "old)\n"
           "    VALUES ('UPDATE', table_name, txid_current(), clock_timestamp(), 'NEW',\n"
           "            (public.fetchval(source_row, 'id'))::integer,\n"
           "            public.fetchval(source_row, 'sfid'),\n"
           "            public.delete(vals, excluded_cols_standard), NULL)\n"
           "    RETURNING id INTO retval;\n"
           "    RETURN retval;\n"
           "  END;\n";
}

// The columns of _trigger_log, shared by the archive.
constexpr const char* trigger_log_columns = "    txid bigint,\n"
                                            "    created_at timestamp with time zone{DEFAULT},\n"
                                            "    updated_at timestamp with time zone{DEFAULT},\n"
                                            "    processed_at timestamp with time zone,\n"
                                            "    processed_tx bigint,\n"
                                            "    state character varying(8),\n"
                                            "    action character varying(7),\n"
                                            "    table_name character varying(128),\n"
                                            "    record_id integer,\n"
                                            "    sfid character varying(18),\n"
                                            "    old text,\n"
                                            "    \"values\" text,\n"
                                            "    sf_result integer,\n"
                                            "    sf_message text,\n";

std::string log_columns(bool with_defaults) {
  std::string s = trigger_log_columns;
  const std::string token = "{DEFAULT}";
  const std::string repl = with_defaults ? " DEFAULT now()" : "";
  for (auto pos = s.find(token); pos != std::string::npos; pos = s.find(token, pos))
    s.replace(pos, token.size(), repl);
  return s;
}

void create_index(pqxx::transaction_base& tx, const std::string& schema, const std::string& name,
                  const std::string& table, const std::string& definition, bool unique = false) {
  tx.exec0(std::string{"CREATE "} + (unique ? "UNIQUE " : "") + "INDEX IF NOT EXISTS "
           + tx.quote_name(pg_identifier(name)) + " ON " + qualified_name(tx, schema, table) + " "
           + definition);
}

/// Heroku Connect's sequences are bigint (its columns integer).
constexpr const char* sequence_options = " AS bigint START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1";

/// `ALTER SEQUENCE ... AS bigint` when `qseq` exists with another type (an
/// earlier version made them integer). Only the type and, when it was the
/// type's default, the maximum change; the current value stays.
void ensure_bigint_sequence(pqxx::transaction_base& tx, const std::string& qseq) {
  auto r = tx.exec_params("SELECT format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = to_regclass($1)",
                          qseq);
  if (r.empty() || r[0][0].as<std::string>() == "bigint")
    return;
  tx.exec0("ALTER SEQUENCE " + qseq + " AS bigint");
}

/// `CREATE TABLE <name> (id integer DEFAULT nextval('<name>_id_seq'), <columns>, PK)`
/// with its own bigint sequence owned by `id`: what `id serial` gives, but bigint.
void create_with_sequence(pqxx::transaction_base& tx, const std::string& schema, const std::string& name,
                          const std::string& columns) {
  const auto qtable = qualified_name(tx, schema, name);
  const auto qseq = qualified_name(tx, schema, name + "_id_seq");
  tx.exec0("CREATE SEQUENCE IF NOT EXISTS " + qseq + sequence_options);
  tx.exec0("CREATE TABLE " + qtable + " (\n    id integer NOT NULL DEFAULT nextval(" + literal(tx, qseq)
           + "::regclass),\n" + columns + "    CONSTRAINT " + tx.quote_name(name + "_pkey") + " PRIMARY KEY (id)\n)");
  tx.exec0("ALTER SEQUENCE " + qseq + " OWNED BY " + qtable + ".id");
}

} // namespace

// ---------------------------------------------------------------------------
// connection schema
// ---------------------------------------------------------------------------

void ensure_connection_schema(pqxx::transaction_base& tx, const std::string& schema) {
  tx.exec(schema_ddl_lock);
  tx.exec0("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(schema));
  auto ext = tx.exec("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
                     "e.extnamespace WHERE e.extname = 'hstore'");
  if (ext.empty())
    tx.exec0("CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA public");
  else if (ext[0][0].as<std::string>() != "public")
    throw std::runtime_error("the hstore extension is installed in schema '"
                             + ext[0][0].as<std::string>()
                             + "'; Heroku Connect compatible triggers need it in public");
  ensure_function(tx, "public.get_xmlbinary()",
                  "CREATE OR REPLACE FUNCTION public.get_xmlbinary() RETURNS character varying "
                  "LANGUAGE plpgsql",
                  get_xmlbinary_body());

  // _trigger_log with its own sequence, as Heroku Connect makes it.
  const auto log = qualified_name(tx, schema, "_trigger_log");
  const auto log_seq = qualified_name(tx, schema, "_trigger_log_id_seq");
  if (!relation_exists(tx, log)) {
    tx.exec0("CREATE SEQUENCE IF NOT EXISTS " + log_seq + sequence_options);
    tx.exec0("CREATE TABLE " + log + " (\n    id integer NOT NULL DEFAULT nextval("
             + literal(tx, log_seq) + "::regclass),\n" + log_columns(true)
             + "    CONSTRAINT _trigger_log_pkey PRIMARY KEY (id)\n)");
    tx.exec0("ALTER SEQUENCE " + log_seq + " OWNED BY " + log + ".id");
  }
  create_index(tx, schema, "_trigger_log_idx_created_at", "_trigger_log", "(created_at)");
  create_index(tx, schema, "_trigger_log_idx_state_id", "_trigger_log", "(state, id)");
  create_index(tx, schema, "_trigger_log_idx_state_table_name", "_trigger_log",
               "(state, table_name) WHERE ((state)::text = 'NEW'::text) OR ((state)::text = "
               "'PENDING'::text)");
  // Ours, beyond Heroku Connect's: "does this row have a change waiting?" (the
  // echo rule of polls and the writer's results) without scanning the log.
  create_index(tx, schema, "_trigger_log_idx_table_record", "_trigger_log",
               "(table_name, record_id) WHERE ((state)::text = 'NEW'::text) OR ((state)::text = "
               "'PENDING'::text)");

  const auto archive = qualified_name(tx, schema, "_trigger_log_archive");
  if (!relation_exists(tx, archive)) {
    tx.exec0("CREATE TABLE " + archive + " (\n    id integer NOT NULL,\n" + log_columns(false)
             + "    CONSTRAINT _trigger_log_archive_pkey PRIMARY KEY (id)\n)");
  }
  create_index(tx, schema, "_trigger_log_archive_idx_created_at", "_trigger_log_archive",
               "(created_at)");
  create_index(tx, schema, "_trigger_log_archive_idx_record_id", "_trigger_log_archive",
               "(record_id)");
  create_index(tx, schema, "_trigger_log_archive_idx_state_table_name", "_trigger_log_archive",
               "(state, table_name) WHERE ((state)::text = 'FAILED'::text)");

  // Notify on every log insert.
  const auto notify_fn = qualified_name(tx, schema, "tlog_notify_trigger");
  ensure_function(tx, notify_fn + "()",
                  "CREATE OR REPLACE FUNCTION " + notify_fn + "() RETURNS trigger LANGUAGE plpgsql",
                  notify_body(tx, schema));
  if (!trigger_exists(tx, log, "tlog_insert_trigger"))
    tx.exec0("CREATE TRIGGER tlog_insert_trigger AFTER INSERT ON " + log
             + " FOR EACH ROW EXECUTE FUNCTION " + notify_fn + "()");

  // _hcmeta and _sf_event_log: `id serial` but with bigint sequences (a serial
  // column would get an integer one), as in Heroku Connect's schemas.
  const auto hcmeta = qualified_name(tx, schema, "_hcmeta");
  if (!relation_exists(tx, hcmeta))
    create_with_sequence(tx, schema, "_hcmeta",
                         "    hcver integer,\n    org_id character varying(50),\n    details text,\n");

  const auto events = qualified_name(tx, schema, "_sf_event_log");
  if (!relation_exists(tx, events))
    create_with_sequence(tx, schema, "_sf_event_log",
                         "    table_name character varying(128),\n    action character varying(7),\n"
                         "    synced_at timestamp with time zone DEFAULT now(),\n"
                         "    sf_timestamp timestamp with time zone,\n    sfid character varying(20),\n"
                         "    record text,\n    processed boolean,\n");

  // Schemas made by earlier versions: integer sequences become bigint in place.
  for (const char* seq : {"_trigger_log_id_seq", "_hcmeta_id_seq", "_sf_event_log_id_seq"})
    ensure_bigint_sequence(tx, qualified_name(tx, schema, seq));
  create_index(tx, schema, "idx__sf_event_log_sfid", "_sf_event_log", "(sfid)");
  create_index(tx, schema, "idx__sf_event_log_comp_key", "_sf_event_log", "(table_name, synced_at)");

  // Recapture functions used to retry failed writes.
  const auto cap_insert = qualified_name(tx, schema, "hc_capture_insert_from_row");
  ensure_function(tx, cap_insert + "(public.hstore, character varying, text[])",
                  "CREATE OR REPLACE FUNCTION " + cap_insert
                    + "(source_row public.hstore, table_name character varying, excluded_cols "
                      "text[] DEFAULT ARRAY[]::text[]) RETURNS integer LANGUAGE plpgsql",
                  capture_insert_body(tx, schema));
  const auto cap_update = qualified_name(tx, schema, "hc_capture_update_from_row");
  ensure_function(tx, cap_update + "(public.hstore, character varying, text[])",
                  "CREATE OR REPLACE FUNCTION " + cap_update
                    + "(source_row public.hstore, table_name character varying, "
                      "columns_to_include text[] DEFAULT ARRAY[]::text[]) RETURNS integer "
                      "LANGUAGE plpgsql",
                  capture_update_body(tx, schema));
}

void write_hcmeta(pqxx::transaction_base& tx, const std::string& schema, const std::string& org_id,
                  const std::string& details) {
  const auto hcmeta = qualified_name(tx, schema, "_hcmeta");
  const std::optional<std::string> org = org_id.empty() ? std::nullopt : std::optional<std::string>{org_id};
  const auto version = std::to_string(hcmeta_version);
  // One row, written only when something differs: a restart changes nothing.
  if (tx.exec1("SELECT EXISTS (SELECT 1 FROM " + hcmeta + ")")[0].as<bool>()) {
    tx.exec_params("UPDATE " + hcmeta + " SET hcver = $1, org_id = $2, details = $3 WHERE id = (SELECT min(id) FROM "
                     + hcmeta + ") AND (hcver, org_id, details) IS DISTINCT FROM ($1::integer, $2::varchar, $3::text)",
                   version, org, details);
    return;
  }
  tx.exec_params("INSERT INTO " + hcmeta + " (hcver, org_id, details) VALUES ($1, $2, $3)", version, org, details);
}

// ---------------------------------------------------------------------------
// mapped tables
// ---------------------------------------------------------------------------

namespace {

std::string column_ddl(const pqxx::transaction_base& tx, const pg_column& c, bool ucs_basic) {
  std::string s = tx.quote_name(c.name) + " " + c.type;
  if (c.name == "sfid" && ucs_basic)
    s += " COLLATE pg_catalog.ucs_basic";
  return s;
}

/// Creates table + sequence + pkey + indexes under the given names.
void create_table_shape(pqxx::transaction_base& tx, const hc_table_spec& spec,
                        const std::string& table, const std::string& sequence,
                        const std::optional<std::string>& pkey, const std::vector<hc_index_def>& indexes) {
  const auto qtable = qualified_name(tx, spec.schema, table);
  const auto qseq = qualified_name(tx, spec.schema, sequence);
  tx.exec0("CREATE SEQUENCE IF NOT EXISTS " + qseq + sequence_options);
  std::string ddl = "CREATE TABLE " + qtable + " (\n";
  for (const auto& c : spec.columns)
    ddl += "    " + column_ddl(tx, c, spec.ucs_basic_collation) + ",\n";
  ddl += "    id integer NOT NULL DEFAULT nextval(" + literal(tx, qseq) + "::regclass),\n";
  ddl += "    _hc_lastop character varying(32),\n";
  ddl += "    _hc_err text";
  ddl += pkey ? ",\n    CONSTRAINT " + tx.quote_name(*pkey) + " PRIMARY KEY (id)\n)" : std::string{"\n)"};
  tx.exec0(ddl);
  tx.exec0("ALTER SEQUENCE " + qseq + " OWNED BY " + qtable + ".id");
  for (const auto& i : indexes)
    create_index(tx, spec.schema, i.name, table, "(" + tx.quote_name(i.column) + ")", i.unique);
}

/// Functions of the mapping plus its triggers on `table`.
void ensure_triggers(pqxx::transaction_base& tx, const hc_table_spec& spec,
                     const std::string& table) {
  const auto names = hc_names_for(spec.table);
  const auto qtable = qualified_name(tx, spec.schema, table);
  const auto logger = qualified_name(tx, spec.schema, names.logger);
  const auto status = qualified_name(tx, spec.schema, names.status);
  ensure_function(tx, logger + "()",
                  "CREATE OR REPLACE FUNCTION " + logger + "() RETURNS trigger LANGUAGE plpgsql",
                  logger_body(tx, spec.schema, spec.access));
  ensure_function(tx, status + "()",
                  "CREATE OR REPLACE FUNCTION " + status + "() RETURNS trigger LANGUAGE plpgsql",
                  status_body());
  if (!trigger_exists(tx, qtable, names.log_trigger))
    tx.exec0("CREATE TRIGGER " + tx.quote_name(names.log_trigger)
             + " AFTER INSERT OR DELETE OR UPDATE ON " + qtable
             + " FOR EACH ROW WHEN ((public.get_xmlbinary())::text = 'base64'::text) "
               "EXECUTE FUNCTION "
             + logger + "()");
  if (!trigger_exists(tx, qtable, names.status_trigger))
    tx.exec0("CREATE TRIGGER " + tx.quote_name(names.status_trigger)
             + " BEFORE INSERT OR UPDATE ON " + qtable + " FOR EACH ROW EXECUTE FUNCTION " + status
             + "()");
}

/// Formatted types of the table's columns: name -> format_type.
std::vector<std::pair<std::string, std::string>> existing_columns(pqxx::transaction_base& tx,
                                                                  const std::string& qtable) {
  std::vector<std::pair<std::string, std::string>> out;
  auto r = tx.exec_params("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                          "WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped "
                          "ORDER BY attnum",
                          qtable);
  for (const auto& row : r)
    out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  return out;
}

/// The non-unique index kept on a column while its unique index cannot be built.
std::string fallback_index_name(const std::string& table, const std::string& column) {
  return pg_identifier("hc_idx_" + table + "_" + column);
}

/// The duplicate values of `column` that keep `index` from being unique; nullopt when there are none.
std::optional<unique_index_problem> duplicates_of(pqxx::transaction_base& tx, const std::string& schema,
                                                  const std::string& table, const std::string& column,
                                                  const std::string& index) {
  const auto qtable = qualified_name(tx, schema, table);
  const auto qcol = tx.quote_name(column);
  const std::string dup_sql = "SELECT " + qcol + "::text AS v, count(*) AS n FROM " + qtable + " WHERE " + qcol
                              + " IS NOT NULL GROUP BY " + qcol + " HAVING count(*) > 1";
  auto examples = tx.exec(dup_sql + " ORDER BY 2 DESC, 1 LIMIT 5");
  if (examples.empty())
    return std::nullopt;
  unique_index_problem p;
  p.index = index;
  p.column = column;
  p.fallback_index = fallback_index_name(table, column);
  p.duplicate_values = tx.exec1("SELECT count(*) FROM (" + dup_sql + ") d")[0].as<long>();
  for (const auto& row : examples)
    p.examples.push_back(tx.quote(row[0].as<std::string>()) + " (" + row[1].as<std::string>() + " rows)");
  return p;
}

/// Creates the spec's missing indexes on an existing table. A unique index is
/// built only when the column holds no duplicate values; otherwise the column
/// keeps (or gets) the non-unique hc_idx_ index and the problem is returned,
/// so the node keeps running and says what to resolve. Once the unique index
/// exists, the non-unique stand-in goes.
std::vector<unique_index_problem> ensure_indexes(pqxx::transaction_base& tx, const hc_table_spec& spec,
                                                 const std::string& qtable) {
  std::vector<unique_index_problem> blocked;
  const auto defs = hc_index_defs(spec);
  for (const auto& i : defs) {
    const auto qcol = tx.quote_name(i.column);
    if (!i.unique || relation_exists(tx, qualified_name(tx, spec.schema, i.name))) {
      create_index(tx, spec.schema, i.name, spec.table, "(" + qcol + ")", i.unique);
      continue;
    }
    // No write may slip in between the check and the build (CREATE INDEX takes this lock anyway).
    tx.exec0("LOCK TABLE " + qtable + " IN SHARE MODE");
    auto p = duplicates_of(tx, spec.schema, spec.table, i.column, i.name);
    if (!p) {
      create_index(tx, spec.schema, i.name, spec.table, "(" + qcol + ")", true);
      continue;
    }
    create_index(tx, spec.schema, p->fallback_index, spec.table, "(" + qcol + ")", false);
    blocked.push_back(std::move(*p));
  }
  for (const auto& i : defs) {
    if (!i.unique)
      continue;
    const auto fallback = fallback_index_name(spec.table, i.column);
    bool wanted = std::any_of(defs.begin(), defs.end(), [&](const hc_index_def& d) { return d.name == fallback; })
                  || std::any_of(blocked.begin(), blocked.end(),
                                 [&](const unique_index_problem& p) { return p.column == i.column; });
    if (!wanted && relation_exists(tx, qualified_name(tx, spec.schema, fallback)))
      tx.exec0("DROP INDEX " + qualified_name(tx, spec.schema, fallback));
  }
  return blocked;
}

} // namespace

std::vector<unique_index_problem> find_unique_index_problems(pqxx::transaction_base& tx, const std::string& schema,
                                                             const std::string& table,
                                                             const std::vector<std::string>& unique_columns) {
  std::vector<unique_index_problem> out;
  if (!relation_exists(tx, qualified_name(tx, schema, table)))
    return out;
  for (const auto& column : unique_columns) {
    const auto index = pg_identifier("hcu_idx_" + table + "_" + column);
    if (relation_exists(tx, qualified_name(tx, schema, index)))
      continue;
    auto has_column = tx.exec_params("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 "
                                     "AND NOT attisdropped",
                                     qualified_name(tx, schema, table), column);
    if (has_column.empty())
      continue;
    if (auto p = duplicates_of(tx, schema, table, column, index))
      out.push_back(std::move(*p));
  }
  return out;
}

mapping_ddl_result ensure_mapping_table(pqxx::transaction_base& tx, const hc_table_spec& spec) {
  mapping_ddl_result result;
  if (spec.find_column("sfid") == nullptr)
    throw std::invalid_argument("table spec for " + spec.table + " has no sfid column");
  lock_table_ddl(tx, spec.schema, spec.table);
  const auto names = hc_names_for(spec.table);
  const auto qtable = qualified_name(tx, spec.schema, names.table);
  if (!relation_exists(tx, qtable)) {
    create_table_shape(tx, spec, names.table, names.sequence, names.primary_key, hc_index_defs(spec));
    result.created = true;
  } else {
    auto existing = existing_columns(tx, qtable);
    for (const auto& c : spec.columns) {
      auto it = std::find_if(existing.begin(), existing.end(),
                             [&](const auto& e) { return e.first == c.name; });
      if (it == existing.end()) {
        tx.exec0("ALTER TABLE " + qtable + " ADD COLUMN IF NOT EXISTS "
                 + column_ddl(tx, c, spec.ucs_basic_collation));
        result.added_columns.push_back(c.name);
      } else if (it->second != c.type) {
        result.type_mismatches.push_back(c.name);
      }
    }
    result.unique_blocked = ensure_indexes(tx, spec, qtable);
  }
  ensure_bigint_sequence(tx, qualified_name(tx, spec.schema, names.sequence));
  ensure_triggers(tx, spec, names.table);
  return result;
}

void drop_mapping_table(pqxx::transaction_base& tx, const std::string& schema,
                        const std::string& table) {
  lock_table_ddl(tx, schema, table);
  const auto names = hc_names_for(table);
  tx.exec0("DROP TABLE IF EXISTS " + qualified_name(tx, schema, reload_table_name(table)));
  tx.exec0("DROP TABLE IF EXISTS " + qualified_name(tx, schema, names.table));
  tx.exec0("DROP FUNCTION IF EXISTS " + qualified_name(tx, schema, names.logger) + "()");
  tx.exec0("DROP FUNCTION IF EXISTS " + qualified_name(tx, schema, names.status) + "()");
}

bool add_mapping_column(pqxx::transaction_base& tx, const std::string& schema,
                        const std::string& table, const pg_column& column) {
  const auto qtable = qualified_name(tx, schema, table);
  auto existing = existing_columns(tx, qtable);
  for (const auto& e : existing)
    if (e.first == column.name)
      return false;
  tx.exec0("ALTER TABLE " + qtable + " ADD COLUMN IF NOT EXISTS " + tx.quote_name(column.name) + " "
           + column.type);
  return true;
}

void replace_mapping_column(pqxx::transaction_base& tx, const std::string& schema,
                            const std::string& table, const pg_column& column) {
  const auto qtable = qualified_name(tx, schema, table);
  tx.exec0("ALTER TABLE " + qtable + " DROP COLUMN IF EXISTS " + tx.quote_name(column.name)
           + ", ADD COLUMN " + tx.quote_name(column.name) + " " + column.type);
}

// ---------------------------------------------------------------------------
// mapping edits
// ---------------------------------------------------------------------------

namespace {

bool is_text_type(const std::string& t) {
  return t == "text" || t == "character varying" || t.rfind("character varying(", 0) == 0;
}

/// n of `character varying(n)`; nullopt for unbounded text types.
std::optional<long> varchar_length(const std::string& t) {
  static const std::string prefix = "character varying(";
  if (t.rfind(prefix, 0) != 0 || t.back() != ')')
    return std::nullopt;
  try {
    return std::stol(t.substr(prefix.size(), t.size() - prefix.size() - 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// (precision, scale) of `numeric(p[,s])`; (0, 0) for an unbounded `numeric`.
std::optional<std::pair<int, int>> numeric_of(const std::string& t) {
  if (t == "numeric")
    return std::make_pair(0, 0);
  static const std::string prefix = "numeric(";
  if (t.rfind(prefix, 0) != 0 || t.back() != ')')
    return std::nullopt;
  auto inner = t.substr(prefix.size(), t.size() - prefix.size() - 1);
  try {
    auto comma = inner.find(',');
    if (comma == std::string::npos)
      return std::make_pair(std::stoi(inner), 0);
    return std::make_pair(std::stoi(inner.substr(0, comma)), std::stoi(inner.substr(comma + 1)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// Columns every mapped table keeps, whatever the mapping's fields.
bool is_system_column(const std::string& c) {
  static const char* const names[] = {"id",          "sfid",         "_hc_lastop",  "_hc_err",
                                      "systemmodstamp", "isdeleted", "createddate", "lastmodifieddate"};
  return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return c == n; });
}

/// (view, column) pairs: views (and rules) of other relations using a column of `qtable`.
std::vector<std::pair<std::string, std::string>> dependent_views(pqxx::transaction_base& tx,
                                                                 const std::string& qtable) {
  std::vector<std::pair<std::string, std::string>> out;
  auto r = tx.exec_params(
    "SELECT DISTINCT r.ev_class::regclass::text, a.attname FROM pg_depend d "
    "JOIN pg_rewrite r ON r.oid = d.objid "
    "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
    "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass($1) "
    "AND d.refobjsubid > 0 AND r.ev_class <> d.refobjid ORDER BY 1, 2",
    qtable);
  for (const auto& row : r)
    out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  return out;
}

const char* change_verb(column_change_kind k) {
  switch (k) {
    case column_change_kind::added: return "added";
    case column_change_kind::altered: return "altered";
    case column_change_kind::retyped: return "re-typed";
    case column_change_kind::dropped: return "dropped";
  }
  return "changed";
}

} // namespace

bool in_place_type_change(const std::string& from, const std::string& to) {
  if (from == to)
    return true;
  if (is_text_type(from) && is_text_type(to))
    return true;
  auto a = numeric_of(from);
  auto b = numeric_of(to);
  if (a && b) {
    if (b->first == 0)
      return true; // unbounded numeric holds anything
    if (a->first == 0)
      return false;
    return b->second >= a->second && b->first - b->second >= a->first - a->second;
  }
  return false;
}

std::vector<column_change> plan_column_changes(
  const std::vector<std::pair<std::string, std::string>>& existing, const hc_table_spec& spec) {
  std::vector<column_change> added, altered, retyped, dropped;
  for (const auto& c : spec.columns) {
    auto it = std::find_if(existing.begin(), existing.end(),
                           [&](const auto& e) { return e.first == c.name; });
    if (it == existing.end())
      added.push_back(column_change{column_change_kind::added, c.name, "", c.type});
    else if (it->second != c.type)
      (in_place_type_change(it->second, c.type) ? altered : retyped)
        .push_back(column_change{in_place_type_change(it->second, c.type) ? column_change_kind::altered
                                                                          : column_change_kind::retyped,
                                 c.name, it->second, c.type});
  }
  for (const auto& e : existing) {
    if (is_system_column(e.first) || spec.find_column(e.first) != nullptr)
      continue;
    dropped.push_back(column_change{column_change_kind::dropped, e.first, e.second, ""});
  }
  std::vector<column_change> out;
  for (auto* v : {&added, &altered, &retyped, &dropped})
    out.insert(out.end(), v->begin(), v->end());
  return out;
}

mapping_change_result change_mapping_table(pqxx::transaction_base& tx, const hc_table_spec& spec) {
  mapping_change_result result;
  if (spec.find_column("sfid") == nullptr)
    throw std::invalid_argument("table spec for " + spec.table + " has no sfid column");
  lock_table_ddl(tx, spec.schema, spec.table);
  const auto names = hc_names_for(spec.table);
  const auto qtable = qualified_name(tx, spec.schema, names.table);
  if (!relation_exists(tx, qtable)) {
    result.created = ensure_mapping_table(tx, spec).created;
    return result;
  }
  auto changes = plan_column_changes(existing_columns(tx, qtable), spec);

  // Views on a column to drop or change block the whole edit: say which, change nothing.
  std::string blocked;
  for (const auto& [view, column] : dependent_views(tx, qtable)) {
    auto it = std::find_if(changes.begin(), changes.end(), [&](const column_change& c) {
      return c.column == column && c.kind != column_change_kind::added;
    });
    if (it == changes.end())
      continue;
    blocked += std::string{blocked.empty() ? "" : "; "} + "view " + view + " depends on column " + column
               + " (to be " + change_verb(it->kind) + (it->to_type.empty() ? "" : " to " + it->to_type) + ")";
  }
  if (!blocked.empty()) {
    result.error = "cannot change table " + spec.schema + "." + names.table + " to the mapping's fields: "
                   + blocked + "; drop or change the view first";
    return result;
  }

  for (const auto& c : changes) {
    const auto qcol = tx.quote_name(c.column);
    switch (c.kind) {
      case column_change_kind::added:
        tx.exec0("ALTER TABLE " + qtable + " ADD COLUMN "
                 + column_ddl(tx, *spec.find_column(c.column), spec.ucs_basic_collation));
        result.backfill.push_back(c.column);
        break;
      case column_change_kind::altered: {
        // A shorter text type truncates (an explicit cast), as Salesforce does to its values.
        auto from_len = varchar_length(c.from_type);
        auto to_len = varchar_length(c.to_type);
        bool shrinks = to_len && (!from_len || *to_len < *from_len);
        tx.exec0("ALTER TABLE " + qtable + " ALTER COLUMN " + qcol + " TYPE " + c.to_type
                 + (shrinks ? " USING " + qcol + "::" + c.to_type : std::string{}));
        break;
      }
      case column_change_kind::retyped:
        tx.exec0("ALTER TABLE " + qtable + " DROP COLUMN " + qcol + ", ADD COLUMN "
                 + column_ddl(tx, *spec.find_column(c.column), spec.ucs_basic_collation));
        result.backfill.push_back(c.column);
        break;
      case column_change_kind::dropped:
        tx.exec0("ALTER TABLE " + qtable + " DROP COLUMN " + qcol);
        break;
    }
  }
  result.changes = std::move(changes);

  // Our indexes no longer in the spec go (those of dropped columns went with them).
  auto defs = hc_index_defs(spec);
  auto indexes = tx.exec_params("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                "WHERE i.indrelid = to_regclass($1) AND (c.relname LIKE 'hc\\_idx\\_%' "
                                "OR c.relname LIKE 'hcu\\_idx\\_%') ORDER BY 1",
                                qtable);
  auto stands_in = [&](const std::string& name) {
    // the non-unique index of a column whose unique index could not be built yet
    return std::any_of(defs.begin(), defs.end(), [&](const hc_index_def& d) {
      return d.unique && fallback_index_name(spec.table, d.column) == name
             && !relation_exists(tx, qualified_name(tx, spec.schema, d.name));
    });
  };
  for (const auto& row : indexes) {
    auto name = row[0].as<std::string>();
    if (std::none_of(defs.begin(), defs.end(), [&](const hc_index_def& d) { return d.name == name; })
        && !stands_in(name)) {
      tx.exec0("DROP INDEX " + qualified_name(tx, spec.schema, name));
      result.dropped_indexes.push_back(name);
    }
  }

  // A shadow of an interrupted load with another shape cannot be swapped in any more.
  const auto qshadow = qualified_name(tx, spec.schema, reload_table_name(spec.table));
  if (relation_exists(tx, qshadow)) {
    std::vector<std::pair<std::string, std::string>> want;
    for (const auto& c : spec.columns)
      want.emplace_back(c.name, c.type);
    std::vector<std::pair<std::string, std::string>> have;
    for (auto& e : existing_columns(tx, qshadow))
      if (e.first != "id" && e.first != "_hc_lastop" && e.first != "_hc_err")
        have.push_back(std::move(e));
    std::sort(want.begin(), want.end());
    std::sort(have.begin(), have.end());
    if (want != have) {
      tx.exec0("DROP TABLE " + qshadow);
      result.dropped_reload_table = true;
    }
  }

  // New indexes, functions and triggers (the logger captures whatever columns the row has).
  result.unique_blocked = ensure_mapping_table(tx, spec).unique_blocked;
  return result;
}

// ---------------------------------------------------------------------------
// reload
// ---------------------------------------------------------------------------

namespace {

/// Shadow index names: position-tagged so truncation cannot collide.
std::vector<hc_index_def> shadow_index_defs(const hc_table_spec& spec) {
  auto defs = hc_index_defs(spec);
  auto shadow = reload_table_name(spec.table);
  for (std::size_t i = 0; i < defs.size(); ++i)
    defs[i].name = pg_identifier("r" + std::to_string(i) + "_" + shadow);
  return defs;
}

/// Whether something outside the live table refers to it or to its id
/// sequence (dropped with it): a view, a foreign key, or an object that uses
/// the sequence, e.g. another table's `DEFAULT nextval(...)` or a view calling it.
bool has_dependents(pqxx::transaction_base& tx, const std::string& qtable, const std::string& qsequence) {
  auto on_sequence = tx.exec_params1(
    "SELECT count(*) FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass($2) "
    "AND d.deptype = 'n' AND NOT (d.classid = 'pg_attrdef'::regclass "
    "AND d.objid IN (SELECT oid FROM pg_attrdef WHERE adrelid = to_regclass($1)))",
    qtable, qsequence);
  if (on_sequence[0].as<long>() > 0)
    return true;
  auto views = tx.exec_params1(
    "SELECT count(*) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
    "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass($1) "
    "AND r.ev_class <> d.refobjid",
    qtable);
  auto fkeys = tx.exec_params1("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                               "AND confrelid = to_regclass($1) AND conrelid <> confrelid",
                               qtable);
  return views[0].as<long>() > 0 || fkeys[0].as<long>() > 0;
}

/// GRANT statements reproducing the table's privileges on `target`.
std::vector<std::string> grants_of(pqxx::transaction_base& tx, const std::string& qtable,
                                   const std::string& target) {
  std::vector<std::string> out;
  auto r = tx.exec_params(
    "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.rolname) END, "
    "a.privilege_type, a.is_grantable "
    "FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
    "LEFT JOIN pg_roles g ON g.oid = a.grantee "
    "WHERE c.oid = to_regclass($1) AND a.grantee <> c.relowner",
    qtable);
  for (const auto& row : r) {
    out.push_back("GRANT " + row[1].as<std::string>() + " ON " + target + " TO "
                  + row[0].as<std::string>() + (row[2].as<bool>() ? " WITH GRANT OPTION" : ""));
  }
  return out;
}

/// Before the shadow replaces the live table: rows keep their `id` (applications
/// and `_trigger_log.record_id` refer to it), rows that exist only in PostgreSQL
/// (inserted, not yet written) are carried over, and rows with a change still
/// waiting to be written keep their local values. Nothing to do for an empty live table.
void keep_local_state(pqxx::transaction_base& tx, const hc_table_spec& spec, const std::string& qtable,
                      const std::string& qshadow, const std::string& qshadow_seq) {
  if (!tx.exec1("SELECT EXISTS (SELECT 1 FROM " + qtable + ")")[0].as<bool>())
    return;
  std::string cols;
  std::string live_cols;
  for (const auto& c : spec.columns) {
    if (c.name == "sfid")
      continue;
    cols += (cols.empty() ? "" : ", ") + tx.quote_name(c.name);
    live_cols += std::string{live_cols.empty() ? "" : ", "} + "l." + tx.quote_name(c.name);
  }
  // Out of the way first (negative ids never collide), then the live row's id by sfid.
  tx.exec0("UPDATE " + qshadow + " SET id = -id");
  tx.exec0("UPDATE " + qshadow + " s SET id = l.id FROM " + qtable + " l WHERE l.sfid = s.sfid");
  tx.exec0("INSERT INTO " + qshadow + " (id, sfid" + (cols.empty() ? "" : ", " + cols) +
           ", _hc_lastop, _hc_err) SELECT l.id, l.sfid" + (live_cols.empty() ? "" : ", " + live_cols) +
           ", l._hc_lastop, l._hc_err FROM " + qtable + " l WHERE l.sfid IS NULL");
  if (!cols.empty())
    tx.exec0("UPDATE " + qshadow + " s SET (" + cols + ", _hc_lastop, _hc_err) = (" + live_cols +
             ", l._hc_lastop, l._hc_err) FROM " + qtable + " l WHERE s.id = l.id AND l._hc_lastop = 'PENDING'");
  tx.exec("SELECT setval(" + literal(tx, qshadow_seq) + "::regclass, greatest((SELECT max(id) FROM " + qtable +
          "), (SELECT max(id) FROM " + qshadow + "), 1))");
  tx.exec0("UPDATE " + qshadow + " SET id = nextval(" + literal(tx, qshadow_seq) + "::regclass) WHERE id < 0");
}

} // namespace

void create_reload_table(pqxx::transaction_base& tx, const hc_table_spec& spec) {
  lock_table_ddl(tx, spec.schema, spec.table);
  const auto shadow = reload_table_name(spec.table);
  tx.exec0("DROP TABLE IF EXISTS " + qualified_name(tx, spec.schema, shadow));
  // No key and no index while the rows come in: COPY into a bare table runs
  // about twice as fast as into one with Heroku Connect's indexes (issue 16).
  // The swap builds them all, one sorted build each, and sets aside the rows
  // a unique index would have refused (build_shadow_keys).
  create_table_shape(tx, spec, shadow, pg_identifier(shadow + "_id_seq"), std::nullopt, {});
  // Rows loaded here are in Salesforce's state: SYNCED. A default instead of
  // the status trigger keeps the bulk load at raw COPY speed; the swap drops it.
  tx.exec0("ALTER TABLE " + qualified_name(tx, spec.schema, shadow)
           + " ALTER COLUMN _hc_lastop SET DEFAULT 'SYNCED'");
}

void drop_reload_table(pqxx::transaction_base& tx, const hc_table_spec& spec) {
  tx.exec0("DROP TABLE IF EXISTS " + qualified_name(tx, spec.schema, reload_table_name(spec.table)));
}

std::vector<shadow_duplicate> build_shadow_keys(pqxx::dbtransaction& tx, const hc_table_spec& spec) {
  std::vector<shadow_duplicate> out;
  const auto shadow = reload_table_name(spec.table);
  const auto qshadow = qualified_name(tx, spec.schema, shadow);
  const auto live_defs = hc_index_defs(spec);
  const auto shadow_defs = shadow_index_defs(spec);
  for (std::size_t i = 0; i < shadow_defs.size(); ++i) {
    const auto& d = shadow_defs[i];
    if (!d.unique || relation_exists(tx, qualified_name(tx, spec.schema, d.name)))
      continue;
    const auto qcol = tx.quote_name(d.column);
    try {
      // The usual case: no value twice, one build and nothing else.
      pqxx::subtransaction build(tx, "shadow_unique_index");
      create_index(build, spec.schema, d.name, shadow, "(" + qcol + ")", true);
      build.commit();
      continue;
    } catch (const pqxx::unique_violation&) {
      // rolled back to before the build: take out the later rows, build again
    }
    // The row loaded first (lowest id) keeps the value, as the index would
    // have kept it during the COPY; the later ones go.
    auto r = tx.exec("DELETE FROM " + qshadow + " s USING (SELECT id, row_number() OVER (PARTITION BY " + qcol +
                     " ORDER BY id) AS n FROM " + qshadow + " WHERE " + qcol + " IS NOT NULL) d WHERE s.id = d.id "
                     "AND d.n > 1 RETURNING s.id, s.sfid, s." + qcol + "::text");
    std::vector<std::pair<long, shadow_duplicate>> taken;
    for (const auto& row : r) {
      shadow_duplicate dup;
      dup.sfid = row[1].is_null() ? std::string{} : row[1].as<std::string>();
      dup.column = d.column;
      if (!row[2].is_null())
        dup.value = row[2].as<std::string>();
      dup.index = live_defs[i].name;
      taken.emplace_back(row[0].as<long>(), std::move(dup));
    }
    std::sort(taken.begin(), taken.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& t : taken)
      out.push_back(std::move(t.second));
    create_index(tx, spec.schema, d.name, shadow, "(" + qcol + ")", true);
  }
  // Last: ids are unique once sfid is (a row's id is its live row's, found by
  // sfid, or a fresh one from the sequence). A shadow of an earlier version has it already.
  if (!tx.exec_params1("SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p')",
                       qshadow)[0].as<bool>()) {
    const auto pkey = pg_identifier(shadow + "_pkey");
    // Built already in a session of its own (shadow_index_builds): the key
    // takes the index over, without a second pass over the rows.
    if (relation_exists(tx, qualified_name(tx, spec.schema, pkey)))
      tx.exec0("ALTER TABLE " + qshadow + " ADD CONSTRAINT " + tx.quote_name(pkey) + " PRIMARY KEY USING INDEX " +
               tx.quote_name(pkey));
    else
      tx.exec0("ALTER TABLE " + qshadow + " ADD CONSTRAINT " + tx.quote_name(pkey) + " PRIMARY KEY (id)");
  }
  return out;
}

std::vector<std::string> shadow_index_builds(pqxx::transaction_base& tx, const hc_table_spec& spec) {
  const auto shadow = reload_table_name(spec.table);
  const auto qshadow = qualified_name(tx, spec.schema, shadow);
  std::vector<std::string> out;
  // The biggest first (sfid, a unique text), so the sessions end about together.
  for (const auto& d : shadow_index_defs(spec))
    out.push_back(std::string{"CREATE "} + (d.unique ? "UNIQUE " : "") + "INDEX IF NOT EXISTS " +
                  tx.quote_name(pg_identifier(d.name)) + " ON " + qshadow + " (" + tx.quote_name(d.column) + ")");
  // The key's index, unless the key is there (a shadow of an earlier version).
  if (!tx.exec_params1("SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p')",
                       qshadow)[0].as<bool>())
    out.push_back("CREATE UNIQUE INDEX IF NOT EXISTS " + tx.quote_name(pg_identifier(shadow + "_pkey")) + " ON " +
                  qshadow + " (id)");
  return out;
}

void build_shadow_index(pqxx::transaction_base& tx, const std::string& statement) {
  // Enough for the sort of a few million short keys in memory (the default
  // 64 MB spills a 1,000,000-row sfid build to disk); for this build only.
  tx.exec0("SET LOCAL maintenance_work_mem = '128MB'");
  tx.exec0(statement);
}

bool live_table_empty(pqxx::transaction_base& tx, const hc_table_spec& spec) {
  const auto qtable = qualified_name(tx, spec.schema, hc_names_for(spec.table).table);
  return !relation_exists(tx, qtable) || !tx.exec1("SELECT EXISTS (SELECT 1 FROM " + qtable + ")")[0].as<bool>();
}

reload_swap_result swap_reload_table(pqxx::dbtransaction& tx, const hc_table_spec& spec) {
  reload_swap_result result;
  lock_table_ddl(tx, spec.schema, spec.table);
  tx.exec0("SET LOCAL xmlbinary = 'hex'"); // nothing done here is captured
  const auto names = hc_names_for(spec.table);
  const auto shadow = reload_table_name(spec.table);
  const auto qtable = qualified_name(tx, spec.schema, names.table);
  const auto qshadow = qualified_name(tx, spec.schema, shadow);
  if (!relation_exists(tx, qshadow))
    throw std::runtime_error("no reload table " + shadow + " to swap in");
  const bool live_exists = relation_exists(tx, qtable);
  const auto qshadow_seq = qualified_name(tx, spec.schema, shadow + "_id_seq");
  bool locked = false;
  if (live_exists && tx.exec1("SELECT EXISTS (SELECT 1 FROM " + qtable + ")")[0].as<bool>()) {
    // A reload: rows keep their live ids, local rows and changes are carried
    // over (keep_local_state, passes over every row) while the shadow has no
    // index to keep up, which costs less than doing it after the builds, and
    // readers wait for the lock either way. Readers queue behind us and then see the new table.
    tx.exec0("LOCK TABLE " + qtable + " IN ACCESS EXCLUSIVE MODE");
    keep_local_state(tx, spec, qtable, qshadow, qshadow_seq);
    locked = true;
  }
  // The shadow's key and indexes, built now that its rows are in (a first
  // load: before the live table is locked, so readers are not kept waiting by
  // the builds). Those of a shadow made by an earlier version are there already (IF NOT EXISTS).
  result.set_aside = build_shadow_keys(tx, spec);
  for (const auto& i : shadow_index_defs(spec))
    create_index(tx, spec.schema, i.name, shadow, "(" + tx.quote_name(i.column) + ")", i.unique);
  if (live_exists && !locked) {
    tx.exec0("LOCK TABLE " + qtable + " IN ACCESS EXCLUSIVE MODE");
    keep_local_state(tx, spec, qtable, qshadow, qshadow_seq); // rows inserted since the check above
  }
  if (live_exists && has_dependents(tx, qtable, qualified_name(tx, spec.schema, names.sequence))) {
    // Views, foreign keys or users of its sequence point at the live table's identity: keep it, swap the rows.
    std::string cols;
    for (const auto& c : spec.columns)
      cols += tx.quote_name(c.name) + ", ";
    cols += "id, _hc_lastop, _hc_err";
    tx.exec0("DELETE FROM " + qtable);
    tx.exec0("INSERT INTO " + qtable + " (" + cols + ") SELECT " + cols + " FROM " + qshadow);
    // Past every id now in the table, never back: an application's table may draw from this sequence too.
    const auto qseq = qualified_name(tx, spec.schema, names.sequence);
    tx.exec("SELECT setval(" + literal(tx, qseq) + "::regclass, greatest(top, 1), top > 0) FROM (SELECT greatest("
            "coalesce((SELECT max(id) FROM " + qtable + "), 0), "
            "(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM " + qseq + ")) AS top) t");
    tx.exec0("DROP TABLE " + qshadow);
  } else {
    std::vector<std::string> grants;
    if (live_exists) {
      grants = grants_of(tx, qtable, qtable);
      tx.exec0("DROP TABLE " + qtable);
    }
    tx.exec0("ALTER TABLE " + qshadow + " RENAME TO " + tx.quote_name(names.table));
    tx.exec0("ALTER SEQUENCE " + qualified_name(tx, spec.schema, shadow + "_id_seq") + " RENAME TO "
             + tx.quote_name(names.sequence));
    tx.exec0("ALTER TABLE " + qtable + " RENAME CONSTRAINT "
             + tx.quote_name(pg_identifier(shadow + "_pkey")) + " TO "
             + tx.quote_name(names.primary_key));
    auto live_defs = hc_index_defs(spec);
    auto shadow_defs = shadow_index_defs(spec);
    for (std::size_t i = 0; i < live_defs.size(); ++i)
      tx.exec0("ALTER INDEX " + qualified_name(tx, spec.schema, shadow_defs[i].name) + " RENAME TO "
               + tx.quote_name(live_defs[i].name));
    tx.exec0("ALTER TABLE " + qtable + " ALTER COLUMN _hc_lastop DROP DEFAULT");
    for (const auto& g : grants)
      tx.exec0(g);
    ensure_triggers(tx, spec, names.table);
    result.renamed = true;
  }
  result.rows = tx.exec1("SELECT count(*) FROM " + qtable)[0].as<std::size_t>();
  return result;
}

} // namespace syncforce::store
