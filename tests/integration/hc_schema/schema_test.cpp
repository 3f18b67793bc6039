#include "hc_fixture.hpp"

#include <chrono>

using namespace syncforce;
using namespace syncforce::hc_test;
using namespace std::chrono_literals;

namespace {

/// Every catalog row of the schema with its xmin: any rewrite changes it.
const char* catalog_snapshot_sql = R"(
  SELECT string_agg(x, E'\n' ORDER BY x) FROM (
    SELECT 'class ' || c.relname || ' ' || c.relkind::text || ' ' || c.xmin::text AS x
      FROM pg_class c WHERE c.relnamespace = 'salesforce'::regnamespace
    UNION ALL
    SELECT 'attr ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || ' ' || a.xmin::text
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = 'salesforce'::regnamespace AND a.attnum > 0
    UNION ALL
    SELECT 'proc ' || p.proname || ' ' || p.xmin::text FROM pg_proc p
      WHERE p.pronamespace IN ('salesforce'::regnamespace, 'public'::regnamespace)
    UNION ALL
    SELECT 'trigger ' || t.tgname || ' ' || t.xmin::text FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'salesforce'::regnamespace
    UNION ALL
    SELECT 'default ' || d.adrelid::regclass::text || ' ' || d.xmin::text FROM pg_attrdef d
      JOIN pg_class c ON c.oid = d.adrelid WHERE c.relnamespace = 'salesforce'::regnamespace
  ) s)";

} // namespace

TEST_F(hc_fixture, connection_schema_matches_heroku_connect) {
  // _trigger_log columns and types
  auto cols = query("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) "
                    "FROM pg_attribute WHERE attrelid = 'salesforce._trigger_log'::regclass AND attnum > 0");
  EXPECT_EQ(cols[0][0].as<std::string>(),
            "id integer, txid bigint, created_at timestamp with time zone, updated_at timestamp with "
            "time zone, processed_at timestamp with time zone, processed_tx bigint, state character "
            "varying(8), action character varying(7), table_name character varying(128), record_id "
            "integer, sfid character varying(18), old text, values text, sf_result integer, "
            "sf_message text");
  auto archive_cols = query("SELECT count(*), count(*) FILTER (WHERE atthasdef) FROM pg_attribute "
                            "WHERE attrelid = 'salesforce._trigger_log_archive'::regclass AND attnum > 0");
  EXPECT_EQ(archive_cols[0][0].as<int>(), 15);
  EXPECT_EQ(archive_cols[0][1].as<int>(), 0); // no defaults
  EXPECT_EQ(query("SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = "
                  "'salesforce._trigger_log'::regclass AND adnum = 1")[0][0].as<std::string>(),
            "nextval('salesforce._trigger_log_id_seq'::regclass)");
  auto idx = query("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'salesforce'");
  EXPECT_EQ(idx[0][0].as<std::string>(),
            "_hcmeta_pkey,_sf_event_log_pkey,_trigger_log_archive_idx_created_at,"
            "_trigger_log_archive_idx_record_id,_trigger_log_archive_idx_state_table_name,"
            "_trigger_log_archive_pkey,_trigger_log_idx_created_at,_trigger_log_idx_state_id,"
            "_trigger_log_idx_state_table_name,"
            "_trigger_log_idx_table_record," // ours: the echo rule's lookup
            "_trigger_log_pkey,idx__sf_event_log_comp_key,"
            "idx__sf_event_log_sfid");
  EXPECT_EQ(query("SELECT indexdef FROM pg_indexes WHERE indexname = '_trigger_log_idx_state_table_name'")[0][0]
              .as<std::string>(),
            "CREATE INDEX _trigger_log_idx_state_table_name ON salesforce._trigger_log USING btree "
            "(state, table_name) WHERE (((state)::text = 'NEW'::text) OR ((state)::text = 'PENDING'::text))");
  EXPECT_EQ(query("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'tlog_insert_trigger'")[0][0]
              .as<std::string>(),
            "CREATE TRIGGER tlog_insert_trigger AFTER INSERT ON salesforce._trigger_log FOR EACH ROW "
            "EXECUTE FUNCTION salesforce.tlog_notify_trigger()");
  EXPECT_EQ(count("SELECT count(*) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                  "WHERE extname = 'hstore' AND nspname = 'public'"), 1);
  EXPECT_EQ(query("SELECT public.get_xmlbinary()")[0][0].as<std::string>(), "base64");
  EXPECT_EQ(count("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'salesforce' "
                  "AND table_name IN ('_hcmeta', '_sf_event_log')"), 2);
  {
    pqxx::work tx{*engine_};
    EXPECT_EQ(tx.exec1("SELECT public.get_xmlbinary()")[0].as<std::string>(), "hex");
    EXPECT_TRUE(store::is_engine_session(tx));
    store::write_hcmeta(tx, schema_, "00D000000000001AAA", "{}");
    store::write_hcmeta(tx, schema_, "00D000000000002AAA", "{}");
    tx.commit();
  }
  EXPECT_EQ(query("SELECT string_agg(org_id, ',') FROM salesforce._hcmeta")[0][0].as<std::string>(),
            "00D000000000002AAA");
}

TEST_F(hc_fixture, mapped_table_matches_heroku_connect) {
  auto r = apply(contact_spec());
  EXPECT_TRUE(r.created);
  auto cols = query("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) "
                    "FROM pg_attribute WHERE attrelid = 'salesforce.contact'::regclass AND attnum > 0");
  EXPECT_EQ(cols[0][0].as<std::string>(),
            "sfid character varying(18), name character varying(121), email character varying(80), "
            "systemmodstamp timestamp without time zone, isdeleted boolean, createddate timestamp "
            "without time zone, external_id__c character varying(40), numberofemployees__c double "
            "precision, id integer, _hc_lastop character varying(32), _hc_err text");
  auto idx = query("SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'contact'");
  EXPECT_EQ(idx[0][0].as<std::string>(),
            "CREATE UNIQUE INDEX contact_pkey ON salesforce.contact USING btree (id)\n"
            "CREATE INDEX hc_idx_contact_systemmodstamp ON salesforce.contact USING btree (systemmodstamp)\n"
            "CREATE UNIQUE INDEX hcu_idx_contact_external_id__c ON salesforce.contact USING btree (external_id__c)\n"
            "CREATE UNIQUE INDEX hcu_idx_contact_sfid ON salesforce.contact USING btree (sfid)");
  // (pg_get_triggerdef leaves out `public.` because public is on the search path)
  auto trg = query("SELECT string_agg(pg_get_triggerdef(oid), E'\\n' ORDER BY tgname) FROM pg_trigger "
                   "WHERE tgrelid = 'salesforce.contact'::regclass AND NOT tgisinternal");
  EXPECT_EQ(trg[0][0].as<std::string>(),
            "CREATE TRIGGER hc_contact_logtrigger AFTER INSERT OR DELETE OR UPDATE ON salesforce.contact "
            "FOR EACH ROW WHEN (((get_xmlbinary())::text = 'base64'::text)) EXECUTE FUNCTION "
            "salesforce.hc_contact_logger()\n"
            "CREATE TRIGGER hc_contact_status_trigger BEFORE INSERT OR UPDATE ON salesforce.contact "
            "FOR EACH ROW EXECUTE FUNCTION salesforce.hc_contact_status()");
  EXPECT_EQ(query("SELECT pg_get_serial_sequence('salesforce.contact', 'id')")[0][0].as<std::string>(),
            "salesforce.contact_id_seq");
}

TEST_F(hc_fixture, ddl_applied_twice_is_a_no_op) {
  auto spec = contact_spec();
  apply(spec);
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Ada', 'x1')");
  auto before = query(catalog_snapshot_sql)[0][0].as<std::string>();
  auto rows_before = count("SELECT count(*) FROM salesforce._trigger_log");
  {
    pqxx::work tx{*engine_};
    store::ensure_connection_schema(tx, schema_);
    auto again = store::ensure_mapping_table(tx, spec);
    EXPECT_FALSE(again.changed());
    EXPECT_TRUE(again.type_mismatches.empty());
    tx.commit();
  }
  EXPECT_EQ(query(catalog_snapshot_sql)[0][0].as<std::string>(), before);
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), rows_before);
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact"), 1);
}

TEST_F(hc_fixture, user_writes_are_captured_like_heroku_connect) {
  apply(contact_spec());
  user_exec("INSERT INTO salesforce.contact (name, email, external_id__c) VALUES ('Ada', 'ada@x.org', 'e1')");
  auto row = query("SELECT id, _hc_lastop, _hc_err FROM salesforce.contact");
  EXPECT_EQ(row[0][1].as<std::string>(), "PENDING");
  EXPECT_TRUE(row[0][2].is_null());
  const auto id = row[0][0].as<long>();

  auto log = query("SELECT state, action, table_name, record_id, sfid, old, \"values\", txid IS NOT NULL, created_at IS NOT NULL "
                   "FROM salesforce._trigger_log ORDER BY id");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0][0].as<std::string>(), "NEW");
  EXPECT_EQ(log[0][1].as<std::string>(), "INSERT");
  EXPECT_EQ(log[0][2].as<std::string>(), "contact");
  EXPECT_EQ(log[0][3].as<long>(), id);
  EXPECT_TRUE(log[0][4].is_null());
  EXPECT_TRUE(log[0][5].is_null());
  EXPECT_TRUE(log[0][7].as<bool>());
  EXPECT_TRUE(log[0][8].as<bool>());
  auto values = parse(log[0][6]);
  EXPECT_EQ(values.get("name"), "Ada");
  EXPECT_EQ(values.get("email"), "ada@x.org");
  EXPECT_EQ(values.get("id"), std::to_string(id));
  EXPECT_TRUE(values.contains("sfid"));
  EXPECT_EQ(values.get("sfid"), std::nullopt);
  EXPECT_FALSE(values.contains("_hc_lastop"));
  EXPECT_FALSE(values.contains("_hc_err"));
  EXPECT_EQ(values.size(), 11u - 2u);

  // The engine writes the sfid back: not captured, row SYNCED.
  engine_exec("UPDATE salesforce.contact SET sfid = '003000000000001AAA'");
  EXPECT_EQ(query("SELECT _hc_lastop FROM salesforce.contact")[0][0].as<std::string>(), "SYNCED");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), 1);

  // UPDATE: old = whole row, values = changed columns only, sfid = OLD.sfid.
  user_exec("UPDATE salesforce.contact SET email = 'ada@y.org', name = NULL");
  auto upd = query("SELECT state, action, sfid, old, \"values\" FROM salesforce._trigger_log WHERE action = 'UPDATE'");
  ASSERT_EQ(upd.size(), 1u);
  EXPECT_EQ(upd[0][0].as<std::string>(), "NEW");
  EXPECT_EQ(upd[0][2].as<std::string>(), "003000000000001AAA");
  auto old = parse(upd[0][3]);
  EXPECT_EQ(old.get("email"), "ada@x.org");
  EXPECT_EQ(old.get("name"), "Ada");
  EXPECT_EQ(old.get("sfid"), "003000000000001AAA");
  EXPECT_FALSE(old.contains("_hc_lastop"));
  auto changed = parse(upd[0][4]);
  EXPECT_EQ(changed.size(), 2u) << upd[0][4].c_str();
  EXPECT_EQ(changed.get("email"), "ada@y.org");
  EXPECT_TRUE(changed.contains("name"));
  EXPECT_EQ(changed.get("name"), std::nullopt);
  EXPECT_EQ(query("SELECT _hc_lastop FROM salesforce.contact")[0][0].as<std::string>(), "PENDING");

  // An UPDATE that changes nothing is IGNORE.
  user_exec("UPDATE salesforce.contact SET email = email");
  auto same = query("SELECT state, \"values\" FROM salesforce._trigger_log ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(same[0][0].as<std::string>(), "IGNORE");
  EXPECT_TRUE(parse(same[0][1]).empty());

  // The engine keeps an explicit _hc_lastop (FAILED + error) and is not captured.
  engine_exec("UPDATE salesforce.contact SET _hc_lastop = 'FAILED', _hc_err = '{\"message\":\"x\"}'");
  auto failed = query("SELECT _hc_lastop, _hc_err FROM salesforce.contact");
  EXPECT_EQ(failed[0][0].as<std::string>(), "FAILED");
  EXPECT_EQ(failed[0][1].as<std::string>(), "{\"message\":\"x\"}");
  // A later engine write without touching _hc_lastop marks it SYNCED and clears the error.
  engine_exec("UPDATE salesforce.contact SET name = 'Ada L'");
  failed = query("SELECT _hc_lastop, _hc_err FROM salesforce.contact");
  EXPECT_EQ(failed[0][0].as<std::string>(), "SYNCED");
  EXPECT_TRUE(failed[0][1].is_null());

  // DELETE with an sfid: NEW, old = row; DELETE without sfid: IGNORE.
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Local', 'e2')");
  user_exec("DELETE FROM salesforce.contact");
  auto del = query("SELECT state, sfid, old, \"values\" FROM salesforce._trigger_log WHERE action = 'DELETE' ORDER BY record_id");
  ASSERT_EQ(del.size(), 2u);
  EXPECT_EQ(del[0][0].as<std::string>(), "NEW");
  EXPECT_EQ(del[0][1].as<std::string>(), "003000000000001AAA");
  EXPECT_EQ(parse(del[0][2]).get("name"), "Ada L");
  EXPECT_TRUE(del[0][3].is_null());
  EXPECT_EQ(del[1][0].as<std::string>(), "IGNORE");
  EXPECT_TRUE(del[1][1].is_null());

  // TRUNCATE is not captured.
  auto before = count("SELECT count(*) FROM salesforce._trigger_log");
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('T')");
  user_exec("TRUNCATE salesforce.contact");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), before + 1);

  // The engine's own inserts: nothing logged, SYNCED.
  engine_exec("INSERT INTO salesforce.contact (sfid, name) VALUES ('003000000000009AAA', 'From SF')");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), before + 1);
  EXPECT_EQ(query("SELECT _hc_lastop FROM salesforce.contact WHERE sfid = '003000000000009AAA'")[0][0].as<std::string>(),
            "SYNCED");
}

TEST_F(hc_fixture, read_only_mapping_logs_readonly) {
  apply(contact_spec(mapping_access::read_only));
  engine_exec("INSERT INTO salesforce.contact (sfid, name) VALUES ('003000000000001AAA', 'Ada')");
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('Local')");
  user_exec("UPDATE salesforce.contact SET name = name");
  user_exec("DELETE FROM salesforce.contact WHERE sfid IS NULL");
  auto states = query("SELECT string_agg(action || ':' || state, ',' ORDER BY id) FROM salesforce._trigger_log");
  EXPECT_EQ(states[0][0].as<std::string>(),
            "INSERT:READONLY,UPDATE:READONLY,UPDATE:READONLY,DELETE:READONLY");

  // Switching the mapping to read_write replaces the logger in place.
  auto r = apply(contact_spec(mapping_access::read_write));
  EXPECT_FALSE(r.created);
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('Now synced')");
  EXPECT_EQ(query("SELECT state FROM salesforce._trigger_log ORDER BY id DESC LIMIT 1")[0][0].as<std::string>(), "NEW");
}

TEST_F(hc_fixture, capture_functions_recapture_rows) {
  apply(contact_spec());
  engine_exec("INSERT INTO salesforce.contact (sfid, name, email, external_id__c) VALUES "
              "('003000000000001AAA', 'Ada', 'a@x.org', 'e1'), (NULL, 'Bob', 'b@x.org', 'e2')");
  auto id_bob = query("SELECT id FROM salesforce.contact WHERE name = 'Bob'")[0][0].as<long>();
  auto r = query("SELECT salesforce.hc_capture_insert_from_row(hstore(c.*), 'contact', ARRAY['email', 'id', 'sfid']) "
                 "FROM salesforce.contact c WHERE name = 'Bob'");
  ASSERT_FALSE(r[0][0].is_null());
  auto log = query("SELECT action, state, table_name, record_id, \"values\", old, id FROM salesforce._trigger_log");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0][6].as<long>(), r[0][0].as<long>());
  EXPECT_EQ(log[0][0].as<std::string>(), "INSERT");
  EXPECT_EQ(log[0][1].as<std::string>(), "NEW");
  EXPECT_EQ(log[0][2].as<std::string>(), "contact");
  EXPECT_EQ(log[0][3].as<long>(), id_bob);
  auto values = parse(log[0][4]);
  EXPECT_FALSE(values.contains("email"));     // excluded
  EXPECT_TRUE(values.contains("id"));         // never excluded
  EXPECT_TRUE(values.contains("sfid"));       // never excluded
  EXPECT_FALSE(values.contains("_hc_lastop")); // always excluded
  EXPECT_EQ(values.get("name"), "Bob");
  EXPECT_TRUE(log[0][5].is_null());

  // Without an id nothing is logged and NULL is returned.
  EXPECT_TRUE(query("SELECT salesforce.hc_capture_insert_from_row('name=>x'::hstore, 'contact')")[0][0].is_null());

  query("SELECT salesforce.hc_capture_update_from_row(hstore(c.*), 'contact', ARRAY['email']) "
        "FROM salesforce.contact c WHERE name = 'Ada'");
  query("SELECT salesforce.hc_capture_update_from_row(hstore(c.*), 'contact') FROM salesforce.contact c WHERE name = 'Ada'");
  auto upd = query("SELECT action, state, sfid, \"values\", old FROM salesforce._trigger_log WHERE action = 'UPDATE' ORDER BY id");
  ASSERT_EQ(upd.size(), 2u);
  EXPECT_EQ(upd[0][2].as<std::string>(), "003000000000001AAA");
  auto only_email = parse(upd[0][3]);
  EXPECT_EQ(only_email.size(), 1u);
  EXPECT_EQ(only_email.get("email"), "a@x.org");
  EXPECT_TRUE(upd[0][4].is_null());
  auto all = parse(upd[1][3]);
  EXPECT_EQ(all.get("name"), "Ada");
  EXPECT_FALSE(all.contains("_hc_err"));
  EXPECT_EQ(all.size(), 9u);
}

TEST_F(hc_fixture, trigger_log_insert_notifies_the_schema_channel) {
  apply(contact_spec());
  struct receiver : pqxx::notification_receiver {
    using pqxx::notification_receiver::notification_receiver;
    std::vector<std::string> payloads;
    void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
  };
  pqxx::connection listener{db_->url()};
  receiver rcv{listener, "salesforce.hc_trigger_log"};
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('Ada')");
  ASSERT_TRUE(syncforce::testing::wait_until(
    [&] {
      listener.get_notifs();
      return !rcv.payloads.empty();
    },
    5000ms));
  EXPECT_EQ(rcv.payloads[0], "ping");
}

TEST_F(hc_fixture, columns_are_added_in_place_and_retyped) {
  auto spec = contact_spec();
  apply(spec);
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('Ada')");
  // A new field in the mapping: ensure_mapping_table adds it in place.
  pg_column title{"title", "character varying(128)", pg_value_kind::text, "Title", 128};
  spec.columns.push_back(title);
  auto r = apply(spec);
  EXPECT_FALSE(r.created);
  ASSERT_EQ(r.added_columns.size(), 1u);
  EXPECT_EQ(r.added_columns[0], "title");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact WHERE name = 'Ada'"), 1);
  // Captured hstores now include the column.
  user_exec("UPDATE salesforce.contact SET title = 'Dr'");
  EXPECT_EQ(parse(query("SELECT \"values\" FROM salesforce._trigger_log ORDER BY id DESC LIMIT 1")[0][0]).get("title"), "Dr");

  // A type change is reported, then done by drop + add.
  spec.columns.back().type = "text";
  r = apply(spec);
  ASSERT_EQ(r.type_mismatches.size(), 1u);
  EXPECT_EQ(r.type_mismatches[0], "title");
  {
    pqxx::work tx{*engine_};
    EXPECT_FALSE(store::add_mapping_column(tx, schema_, "contact", spec.columns.back()));
    store::replace_mapping_column(tx, schema_, "contact", spec.columns.back());
    tx.commit();
  }
  EXPECT_EQ(query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                  "'salesforce.contact'::regclass AND attname = 'title'")[0][0].as<std::string>(), "text");
  EXPECT_TRUE(apply(spec).type_mismatches.empty());
}

TEST_F(hc_fixture, quoted_identifiers_survive_odd_schema_names) {
  schema_ = "Odd \"Schema\"; drop";
  {
    pqxx::work tx{*engine_};
    store::ensure_connection_schema(tx, schema_);
    tx.commit();
  }
  auto spec = contact_spec();
  apply(spec);
  user_exec("INSERT INTO \"Odd \"\"Schema\"\"; drop\".contact (name) VALUES ('Ada')");
  EXPECT_EQ(count("SELECT count(*) FROM \"Odd \"\"Schema\"\"; drop\"._trigger_log"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'salesforce'"), 1);
}

TEST_F(hc_fixture, ucs_basic_collation_feature_and_hstore_placement) {
  auto spec = contact_spec();
  spec.ucs_basic_collation = true;
  apply(spec);
  EXPECT_EQ(query("SELECT collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
                  "WHERE attrelid = 'salesforce.contact'::regclass AND attname = 'sfid'")[0][0].as<std::string>(),
            "ucs_basic");
  EXPECT_FALSE(apply(spec).changed());
  // hstore living outside public cannot serve Heroku Connect's triggers: refused, clearly.
  engine_exec("CREATE SCHEMA ext; ALTER EXTENSION hstore SET SCHEMA ext");
  pqxx::work tx{*engine_};
  try {
    store::ensure_connection_schema(tx, schema_);
    ADD_FAILURE() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("in public"), std::string::npos) << e.what();
  }
}

TEST_F(hc_fixture, drop_mapping_table_removes_table_and_functions) {
  auto spec = contact_spec();
  apply(spec);
  {
    pqxx::work tx{*engine_};
    store::create_reload_table(tx, spec);
    tx.commit();
  }
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('Ada')");
  {
    pqxx::work tx{*engine_};
    store::drop_mapping_table(tx, schema_, "contact");
    tx.commit();
  }
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relnamespace = 'salesforce'::regnamespace "
                  "AND relname LIKE 'contact%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_proc WHERE proname LIKE 'hc_contact_%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), 1); // the log is the connection's
  EXPECT_TRUE(apply(spec).created); // and it can come back
}
