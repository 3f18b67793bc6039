// The consumer's view of the schema (what django-heroku-connect and plain SQL
// see through information_schema/pg_catalog) and the upgrade of schemas made
// by earlier versions in place, without a reload.

#include "hc_fixture.hpp"

using namespace syncforce;
using namespace syncforce::hc_test;

namespace {

/// A Contact mapping made like `syncforce mapping:create --upsert-field`: no `indexes` of its own.
hc_table_spec cli_contact_spec(const std::string& schema) {
  mapping_config m;
  m.object_name = "Contact";
  m.access = mapping_access::read_write;
  m.fields = {"Id", "Name", "SystemModstamp", "IsDeleted", "CreatedDate", "External_Id__c"};
  m.upsert_field = "External_Id__c";
  std::vector<sf_field_info> describe{{"Id", sf_field_type::id, 18},
                                      {"Name", sf_field_type::string, 121},
                                      {"SystemModstamp", sf_field_type::datetime, 0},
                                      {"IsDeleted", sf_field_type::boolean, 0},
                                      {"CreatedDate", sf_field_type::datetime, 0},
                                      {"External_Id__c", sf_field_type::string, 40}};
  auto r = make_table_spec(schema, m, describe);
  EXPECT_TRUE(r.ok());
  return *r.spec;
}

/// The shape earlier versions made: integer sequences, a non-unique index on
/// the upsert field, a logger that fills updated_at. Built with plain SQL.
void build_old_shape(pqxx::connection& c) {
  pqxx::work tx{c};
  tx.exec0("SET LOCAL xmlbinary = 'hex'");
  tx.exec0("ALTER SEQUENCE salesforce._trigger_log_id_seq AS integer");
  tx.exec0("DROP TABLE salesforce._hcmeta, salesforce._sf_event_log");
  tx.exec0("CREATE TABLE salesforce._hcmeta (id serial NOT NULL, hcver integer, org_id character varying(50), "
           "details text, CONSTRAINT _hcmeta_pkey PRIMARY KEY (id))");
  tx.exec0("CREATE TABLE salesforce._sf_event_log (id serial NOT NULL, table_name character varying(128), "
           "action character varying(7), synced_at timestamp with time zone DEFAULT now(), sf_timestamp "
           "timestamp with time zone, sfid character varying(20), record text, processed boolean, "
           "CONSTRAINT _sf_event_log_pkey PRIMARY KEY (id))");
  tx.exec0("CREATE INDEX idx__sf_event_log_sfid ON salesforce._sf_event_log (sfid)");
  tx.exec0("CREATE INDEX idx__sf_event_log_comp_key ON salesforce._sf_event_log (table_name, synced_at)");
  tx.exec0("ALTER SEQUENCE salesforce.contact_id_seq AS integer");
  tx.exec0("DROP INDEX salesforce.hcu_idx_contact_external_id__c");
  tx.exec0("CREATE INDEX hc_idx_contact_external_id__c ON salesforce.contact (external_id__c)");
  // the old logger body: updated_at filled on insert
  auto body = tx.exec1("SELECT prosrc FROM pg_proc WHERE oid = 'salesforce.hc_contact_logger()'::regprocedure")[0]
                .as<std::string>();
  auto at = body.find("    trigger_row.state =");
  body.insert(at, "    trigger_row.updated_at = trigger_row.created_at;\n");
  tx.exec0("CREATE OR REPLACE FUNCTION salesforce.hc_contact_logger() RETURNS trigger LANGUAGE plpgsql AS $b$" + body +
           "$b$");
  tx.commit();
}

} // namespace

TEST_F(hc_fixture, consumer_sees_heroku_connects_schema) {
  auto spec = cli_contact_spec(schema_);
  apply(spec);
  {
    pqxx::work tx{*engine_};
    store::write_hcmeta(tx, schema_, "00D000000000001AAA", R"({"addon_id": "a"})");
    tx.commit();
  }
  // The five sequences are bigint (information_schema and pg_sequence agree).
  EXPECT_EQ(query("SELECT string_agg(sequence_name || ' ' || data_type, ', ' ORDER BY sequence_name) "
                  "FROM information_schema.sequences WHERE sequence_schema = 'salesforce'")[0][0]
              .as<std::string>(),
            "_hcmeta_id_seq bigint, _sf_event_log_id_seq bigint, _trigger_log_id_seq bigint, contact_id_seq bigint");
  // ... owned by the integer id columns, as serial columns are.
  for (const auto* t : {"_hcmeta", "_sf_event_log", "_trigger_log", "contact"})
    EXPECT_EQ(query(std::string{"SELECT pg_get_serial_sequence('salesforce."} + t + "', 'id')")[0][0].as<std::string>(),
              std::string{"salesforce."} + t + "_id_seq");
  EXPECT_EQ(query("SELECT data_type FROM information_schema.columns WHERE table_schema = 'salesforce' "
                  "AND table_name = '_hcmeta' AND column_name = 'id'")[0][0].as<std::string>(),
            "integer");
  // The upsert field's index is the unique hcu_idx_ (no `indexes` in the mapping).
  EXPECT_EQ(query("SELECT string_agg(c.relname || ' ' || i.indisunique::text, ', ' ORDER BY c.relname) "
                  "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                  "WHERE i.indrelid = 'salesforce.contact'::regclass")[0][0]
              .as<std::string>(),
            "contact_pkey true, hc_idx_contact_systemmodstamp false, hcu_idx_contact_external_id__c true, "
            "hcu_idx_contact_sfid true");
  // ... so ON CONFLICT (external_id__c) works and a duplicate key is refused.
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Ada', 'x1') "
            "ON CONFLICT (external_id__c) DO UPDATE SET name = EXCLUDED.name");
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Ada L', 'x1') "
            "ON CONFLICT (external_id__c) DO UPDATE SET name = EXCLUDED.name");
  EXPECT_EQ(query("SELECT name FROM salesforce.contact WHERE external_id__c = 'x1'")[0][0].as<std::string>(), "Ada L");
  EXPECT_THROW(user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Bob', 'x1')"),
               pqxx::unique_violation);
  // updated_at stays NULL until the writer processes the entry.
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE updated_at IS NULL AND created_at IS NOT NULL"),
            2);
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), 2);
  // _hcmeta has its one row.
  auto meta = query("SELECT hcver, org_id, details FROM salesforce._hcmeta");
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta[0][0].as<int>(), store::hcmeta_version);
  EXPECT_EQ(meta[0][1].as<std::string>(), "00D000000000001AAA");
  EXPECT_EQ(meta[0][2].as<std::string>(), R"({"addon_id": "a"})");
}

TEST_F(hc_fixture, hcmeta_is_written_once_and_only_when_it_changes) {
  auto xmin = [&] { return query("SELECT xmin::text FROM salesforce._hcmeta")[0][0].as<std::string>(); };
  {
    pqxx::work tx{*engine_};
    store::write_hcmeta(tx, schema_, "", "{}"); // org not known yet: NULL
    tx.commit();
  }
  EXPECT_TRUE(query("SELECT org_id FROM salesforce._hcmeta")[0][0].is_null());
  {
    pqxx::work tx{*engine_};
    store::write_hcmeta(tx, schema_, "00D000000000001AAA", "{}");
    tx.commit();
  }
  auto first = xmin();
  {
    pqxx::work tx{*engine_};
    store::write_hcmeta(tx, schema_, "00D000000000001AAA", "{}");
    tx.commit();
  }
  EXPECT_EQ(xmin(), first); // nothing rewritten
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._hcmeta"), 1);
  EXPECT_EQ(query("SELECT org_id FROM salesforce._hcmeta")[0][0].as<std::string>(), "00D000000000001AAA");
}

TEST_F(hc_fixture, capture_functions_leave_updated_at_to_the_column_default_like_heroku_connect) {
  apply(cli_contact_spec(schema_));
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Ada', 'x1')");
  user_exec("SELECT salesforce.hc_capture_insert_from_row(hstore(c.*), 'contact') FROM salesforce.contact c");
  // The trigger's entry has none; the recaptured one gets the column's default now(), as Heroku Connect's does.
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE updated_at IS NULL"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE updated_at IS NOT NULL"), 1);
}

TEST_F(hc_fixture, old_schemas_are_upgraded_in_place_without_a_reload) {
  auto spec = cli_contact_spec(schema_);
  apply(spec);
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Ada', 'x1'), ('Bob', 'x2')");
  build_old_shape(*engine_);
  ASSERT_EQ(query("SELECT data_type FROM information_schema.sequences WHERE sequence_name = 'contact_id_seq'")[0][0]
              .as<std::string>(),
            "integer");
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Cy', 'x3')");
  ASSERT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE updated_at IS NOT NULL"), 1);
  const auto ids_before = query("SELECT string_agg(id::text || name, ',' ORDER BY id) FROM salesforce.contact")[0][0]
                            .as<std::string>();
  const auto table_oid = query("SELECT 'salesforce.contact'::regclass::oid::text")[0][0].as<std::string>();

  // What the node does at start: connection schema, then each mapping.
  store::mapping_change_result r;
  {
    pqxx::work tx{*engine_};
    store::ensure_connection_schema(tx, schema_);
    r = store::change_mapping_table(tx, spec);
    tx.commit();
  }
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.unique_blocked.empty());
  EXPECT_TRUE(r.dropped_indexes.empty()) << r.dropped_indexes.front();
  EXPECT_EQ(query("SELECT string_agg(data_type, ',') FROM information_schema.sequences WHERE sequence_schema = "
                  "'salesforce'")[0][0]
              .as<std::string>(),
            "bigint,bigint,bigint,bigint");
  EXPECT_EQ(query("SELECT string_agg(c.relname || ' ' || i.indisunique::text, ', ' ORDER BY c.relname) "
                  "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                  "WHERE i.indrelid = 'salesforce.contact'::regclass")[0][0]
              .as<std::string>(),
            "contact_pkey true, hc_idx_contact_systemmodstamp false, hcu_idx_contact_external_id__c true, "
            "hcu_idx_contact_sfid true");
  // Same table, same rows and ids (no reload); the sequence goes on where it was.
  EXPECT_EQ(query("SELECT 'salesforce.contact'::regclass::oid::text")[0][0].as<std::string>(), table_oid);
  EXPECT_EQ(query("SELECT string_agg(id::text || name, ',' ORDER BY id) FROM salesforce.contact")[0][0].as<std::string>(),
            ids_before);
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Di', 'x4')");
  EXPECT_EQ(count("SELECT id FROM salesforce.contact WHERE name = 'Di'"), 4);
  EXPECT_EQ(query("SELECT maximum_value::text FROM information_schema.sequences WHERE sequence_name = "
                  "'_hcmeta_id_seq'")[0][0]
              .as<std::string>(),
            "9223372036854775807");
  // The logger was replaced: the new entry has no updated_at.
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE updated_at IS NULL AND record_id = 4"), 1);

  // Idempotent: a second start changes no catalog row.
  auto snapshot = [&] {
    return query("SELECT string_agg(relname || ':' || xmin::text, ',' ORDER BY relname) FROM pg_class "
                 "WHERE relnamespace = 'salesforce'::regnamespace")[0][0]
      .as<std::string>();
  };
  auto before = snapshot();
  {
    pqxx::work tx{*engine_};
    store::ensure_connection_schema(tx, schema_);
    auto again = store::change_mapping_table(tx, spec);
    EXPECT_TRUE(again.changes.empty());
    tx.commit();
  }
  EXPECT_EQ(snapshot(), before);
}

TEST_F(hc_fixture, duplicate_upsert_values_keep_the_non_unique_index_and_are_reported) {
  auto spec = cli_contact_spec(schema_);
  apply(spec);
  build_old_shape(*engine_);
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Ada', 'x1'), ('Ada 2', 'x1'), "
            "('Bob', 'x2'), ('Bob 2', 'x2'), ('Bob 3', 'x2'), ('Cy', 'x3'), ('Nobody', NULL), ('Nobody 2', NULL)");

  store::mapping_change_result r;
  {
    pqxx::work tx{*engine_};
    store::ensure_connection_schema(tx, schema_);
    r = store::change_mapping_table(tx, spec); // must not throw: the node keeps running
    tx.commit();
  }
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.unique_blocked.size(), 1u);
  const auto& p = r.unique_blocked.front();
  EXPECT_EQ(p.index, "hcu_idx_contact_external_id__c");
  EXPECT_EQ(p.column, "external_id__c");
  EXPECT_EQ(p.fallback_index, "hc_idx_contact_external_id__c");
  EXPECT_EQ(p.duplicate_values, 2);
  EXPECT_EQ(p.examples, (std::vector<std::string>{"'x2' (3 rows)", "'x1' (2 rows)"}));
  EXPECT_EQ(p.describe("salesforce", "contact"),
            "cannot make hcu_idx_contact_external_id__c on salesforce.contact unique: 2 values of external_id__c are "
            "held by more than one row ('x2' (3 rows), 'x1' (2 rows)); the non-unique hc_idx_contact_external_id__c "
            "serves meanwhile. Resolve the duplicates (keep one row per value or clear the others' external_id__c); "
            "the unique index is built when the mapping next starts (node restart) or reloads");
  // The non-unique index stays (lookups by the upsert field stay fast); the sequences were upgraded all the same.
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE indexname = 'hc_idx_contact_external_id__c'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE indexname = 'hcu_idx_contact_external_id__c'"), 0);
  EXPECT_EQ(query("SELECT data_type FROM information_schema.sequences WHERE sequence_name = 'contact_id_seq'")[0][0]
              .as<std::string>(),
            "bigint");
  // Diagnose's read-only view says the same.
  {
    pqxx::read_transaction tx{*user_};
    auto found = store::find_unique_index_problems(tx, "salesforce", "contact", {"external_id__c"});
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found.front().duplicate_values, 2);
  }
  // Starting again while unresolved: same report, the fallback is neither dropped nor rebuilt.
  auto fallback_xmin = query("SELECT xmin::text FROM pg_class WHERE relname = 'hc_idx_contact_external_id__c'")[0][0]
                         .as<std::string>();
  {
    pqxx::work tx{*engine_};
    auto again = store::change_mapping_table(tx, spec);
    EXPECT_EQ(again.unique_blocked.size(), 1u);
    EXPECT_TRUE(again.dropped_indexes.empty());
    tx.commit();
  }
  EXPECT_EQ(query("SELECT xmin::text FROM pg_class WHERE relname = 'hc_idx_contact_external_id__c'")[0][0]
              .as<std::string>(),
            fallback_xmin);

  // Resolved: the next start builds the unique index and drops the stand-in.
  user_exec("UPDATE salesforce.contact SET external_id__c = NULL WHERE name IN ('Ada 2', 'Bob 2', 'Bob 3')");
  {
    pqxx::work tx{*engine_};
    auto fixed = store::change_mapping_table(tx, spec);
    EXPECT_TRUE(fixed.unique_blocked.empty());
    tx.commit();
  }
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE indexname = 'hc_idx_contact_external_id__c'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                  "WHERE c.relname = 'hcu_idx_contact_external_id__c' AND i.indisunique"),
            1);
  {
    pqxx::read_transaction tx{*user_};
    EXPECT_TRUE(store::find_unique_index_problems(tx, "salesforce", "contact", {"external_id__c"}).empty());
  }
}
