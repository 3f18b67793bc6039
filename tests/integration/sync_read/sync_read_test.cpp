// Salesforce -> PostgreSQL end to end: initial load with every field type,
// bulk loads, updates, deletes, records sharing one SystemModstamp across a
// poll boundary, a restart that keeps the high-water mark, two connections
// sharing one legacy user.

#include "tests/integration/sync_read/sync_read_fixture.hpp"

using namespace syncforce;
using namespace syncforce::testing;


TEST_F(sync_read, initial_load_keeps_every_value_and_type) {
  auto accounts = load_records(*sf, *emu, "Account", json::array({{{"Name", "Acme"}}}));
  ASSERT_EQ(accounts.size(), 1u);
  json records = json::array();
  const int n = 50000;
  for (int i = 0; i < n; ++i) {
    json r{{"Name", "Every " + std::to_string(i)}, {"Ext_Id__c", "E-" + std::to_string(i)}};
    if (i == 7) {
      r.update({{"Text__c", "tab\there \"quoted\" back\\slash, comma"},
                {"Long__c", "line one\nline two\n\u00e9t\u00e9 \u2603"},
                {"Pick__c", "Done"},
                {"Multi__c", "A;C"},
                {"Flag__c", true},
                {"Count__c", 42},
                {"Ratio__c", 3.1416},
                {"Price__c", 1234567.89},
                {"Share__c", 12.5},
                {"Day__c", "2024-02-29"},
                {"At__c", "2024-02-29T23:59:58.000+0000"},
                {"Clock__c", "13:14:15.000Z"},
                {"Phone__c", "+1 (555) 010-0000"},
                {"Site__c", "https://example.com/a?b=c&d=e"},
                {"Mail__c", "x@example.com"},
                {"Account__c", accounts[0]}});
    }
    records.push_back(r);
  }
  auto ids = load_records(*sf, *emu, "Every__c", records);
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(n));

  write_config(every_mapping());
  start_node(100000); // REST pages (Bulk has its own test)
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), n);
  EXPECT_EQ(count_of(db->url(), "SELECT count(DISTINCT ext_id__c) FROM salesforce.every__c"), n);
  EXPECT_TRUE(node->wait_for_output("RELOAD TABLE every__c", 5s));
  EXPECT_NE(node->output().find("Loading table every__c via SOAP"), std::string::npos);
  EXPECT_TRUE(node->wait_for_output("RELOAD COMPLETE", 10s)); // logged right after the commit
  EXPECT_NE(node->output().find("Every__c QUERY \xE2\x86\xB7SALESFORCE"), std::string::npos);
  { // for the record (speed is measured in bench/, not asserted here)
    ASSERT_TRUE(node->wait_for_output("event=\"Loaded table every__c", 10s));
    auto out = node->output();
    auto i = out.find("event=\"Loaded table every__c");
    ASSERT_NE(i, std::string::npos);
    std::cout << out.substr(i, out.find('\n', i) - i) << "\n";
  }

  auto col = [&](const std::string& expr) {
    return scalar(db->url(), "SELECT " + expr + " FROM salesforce.every__c WHERE sfid = '" + ids[7] + "'");
  };
  EXPECT_EQ(col("text__c"), "tab\there \"quoted\" back\\slash, comma");
  EXPECT_EQ(col("long__c"), "line one\nline two\n\u00e9t\u00e9 \u2603");
  EXPECT_EQ(col("pick__c"), "Done");
  EXPECT_EQ(col("multi__c"), "A;C");
  EXPECT_EQ(col("flag__c::text"), "true");
  EXPECT_EQ(col("count__c::text"), "42");
  EXPECT_EQ(col("ratio__c::text"), "3.1416");
  EXPECT_EQ(col("price__c::text"), "1234567.89");
  EXPECT_EQ(col("share__c::text"), "12.5");
  EXPECT_EQ(col("day__c::text"), "2024-02-29");
  EXPECT_EQ(col("at__c::text"), "2024-02-29 23:59:58");
  EXPECT_EQ(col("clock__c::text"), "13:14:15");
  EXPECT_EQ(col("phone__c"), "+1 (555) 010-0000");
  EXPECT_EQ(col("site__c"), "https://example.com/a?b=c&d=e");
  EXPECT_EQ(col("mail__c"), "x@example.com");
  EXPECT_EQ(col("account__c"), accounts[0]);
  EXPECT_EQ(col("ext_id__c"), "E-7");
  EXPECT_EQ(col("_hc_lastop"), "SYNCED");
  EXPECT_EQ(col("isdeleted::text"), "false");
  // Types as Heroku Connect makes them.
  auto type_of = [&](const std::string& column) {
    return scalar(db->url(), "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                             "'salesforce.every__c'::regclass AND attname = '" + column + "'");
  };
  EXPECT_EQ(type_of("sfid"), "character varying(18)");
  EXPECT_EQ(type_of("systemmodstamp"), "timestamp without time zone");
  EXPECT_EQ(type_of("count__c"), "double precision");
  EXPECT_EQ(type_of("flag__c"), "boolean");
  EXPECT_EQ(type_of("day__c"), "date");
  EXPECT_EQ(type_of("account__c"), "character varying(18)");
  EXPECT_EQ(type_of("pick__c"), "character varying(255)");
  EXPECT_EQ(type_of("multi__c"), "character varying(4099)");
  // Nothing the engine wrote was captured for write-back.
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log"), 0);
  // A null stays null.
  EXPECT_EQ(scalar(db->url(), "SELECT count(*) FROM salesforce.every__c WHERE text__c IS NULL"),
            std::to_string(n - 1));
  stop_node();
}

TEST_F(sync_read, bulk_load_above_the_threshold) {
  json records = json::array();
  const int n = 3000;
  for (int i = 0; i < n; ++i)
    records.push_back({{"Name", "B" + std::to_string(i)}, {"Ext_Id__c", "B-" + std::to_string(i)}, {"Count__c", i}});
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", records).size(), static_cast<std::size_t>(n));
  write_config(every_mapping());
  start_node(1000);
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  EXPECT_NE(node->output().find("Loading table every__c via BULK"), std::string::npos);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), n);
  EXPECT_EQ(count_of(db->url(), "SELECT sum(count__c)::bigint FROM salesforce.every__c"),
            static_cast<long>(n) * (n - 1) / 2);
  stop_node();
}

TEST_F(sync_read, polling_brings_updates_deletes_and_tied_stamps_and_survives_a_restart) {
  json records = json::array();
  for (int i = 0; i < 50; ++i)
    records.push_back({{"Name", "P" + std::to_string(i)}, {"Ext_Id__c", "P-" + std::to_string(i)},
                       {"SystemModstamp", "2024-03-01T10:00:00.000Z"}});
  auto ids = load_records(*sf, *emu, "Every__c", records);
  ASSERT_EQ(ids.size(), 50u);
  write_config(every_mapping());
  start_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  ASSERT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), 50);

  // Three more records carrying exactly the stamp the mark is at, with larger
  // Ids (the keyset is (stamp, Id)): a `SystemModstamp >` poll would miss them.
  // (A record arriving later at the mark's stamp with a smaller Id is a late
  // commit: a known gap, docs/sync-read.md.)
  auto hwm = mapping_field("Every__c", "to_char(high_water_mark AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')");
  ASSERT_EQ(hwm, "2024-03-01 10:00:00");
  json ties = json::array();
  for (int i = 0; i < 3; ++i)
    ties.push_back({{"Id", "a0E5gzzzzzzzz0" + std::to_string(i + 1)},
                    {"Name", "Tie" + std::to_string(i)},
                    {"Ext_Id__c", "T-" + std::to_string(i)},
                    {"SystemModstamp", "2024-03-01T10:00:00.000Z"}});
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", ties).size(), 3u);
  ASSERT_TRUE(wait_until([&] { return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c") == 53; }, 20s))
    << node->output();

  // A poll of more than one page (2,000 records each) whose page boundary cuts
  // through four records sharing one SystemModstamp.
  json many = json::array();
  for (int i = 0; i < 2002; ++i)
    many.push_back({{"Name", "M" + std::to_string(i)}, {"Ext_Id__c", "M-" + std::to_string(i)},
                    {"SystemModstamp", i < 1998 ? "2024-03-02T10:00:00.000Z" : "2024-03-02T10:00:01.000Z"}});
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", many).size(), 2002u);
  ASSERT_TRUE(
    wait_until([&] { return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c") == 53 + 2002; }, 20s))
    << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c WHERE systemmodstamp = "
                                "'2024-03-02 10:00:01'"),
            4);

  // Every session expires: the engine logs in again and carries on.
  {
    salesforce::raw_call c;
    c.method = "POST";
    c.path = emu->base_url() + "/__sfemu/sessions/expire";
    ASSERT_TRUE(sf->call(c));
  }

  // An update and a delete through the REST API.
  auto upd = sf->update("Every__c", {json{{"Id", ids[1]}, {"Text__c", "changed"}}});
  ASSERT_TRUE(upd) << upd.error().describe();
  auto del = sf->remove({ids[2]});
  ASSERT_TRUE(del) << del.error().describe();
  ASSERT_TRUE(wait_until(
    [&] {
      return scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + ids[1] + "'") == "changed" &&
             count_of(db->url(), "SELECT count(*) FROM salesforce.every__c WHERE sfid = '" + ids[2] + "'") == 0;
    },
    20s))
    << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log"), 0);
  EXPECT_NE(node->output().find("logging in again"), std::string::npos) << "the expired session was renewed";

  // Restart: the mark and the state survive, no reload, changes made while down arrive.
  stop_node();
  auto mark_before = mapping_field("Every__c", "high_water_mark::text");
  ASSERT_TRUE(mark_before);
  EXPECT_EQ(mapping_field("Every__c", "state"), "DATA_SYNCED");
  auto upd2 = sf->update("Every__c", {json{{"Id", ids[3]}, {"Text__c", "while down"}}});
  ASSERT_TRUE(upd2) << upd2.error().describe();
  start_node();
  ASSERT_TRUE(wait_until(
    [&] {
      return scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + ids[3] + "'") ==
             "while down";
    },
    20s))
    << node->output();
  EXPECT_EQ(node->output().find("RELOAD TABLE"), std::string::npos) << "no reload after a restart";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), 52 + 2002);
  EXPECT_GE(*mapping_field("Every__c", "high_water_mark"), *mark_before);
  stop_node();
}

TEST(control_repo, importing_the_same_file_twice_changes_nothing_and_keeps_states) {
  auto url = test_database_url();
  if (!url)
    GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set";
  scratch_database db(*url, "control_repo");
  pqxx::connection conn(db.url());
  store::migrate_control_schema(conn);
  auto cfg_text = [](int secs) {
    return R"({"version": 1, "schema": "hc1", "connection": {"name": "c1", "api_version": "55.0"},
      "salesforce": {"login_url": "https://x.example", "username": "u@x", "password_env": "PW"},
      "mappings": [{"object_name": "Contact", "config": {"access": "read_only", "sf_polling_seconds": )" +
           std::to_string(secs) + R"(, "fields": {"Id": {}, "SystemModstamp": {}}}}]})";
  };
  auto parsed = parse_engine_config(cfg_text(600));
  ASSERT_TRUE(parsed.ok()) << parsed.error_text();
  {
    pqxx::work tx(conn);
    auto r = store::import_engine_config(tx, *parsed.config);
    EXPECT_EQ(r.connections_created, 1);
    EXPECT_EQ(r.mappings_created, 1);
    tx.commit();
  }
  std::string mapping_id;
  {
    pqxx::work tx(conn);
    auto conns = store::load_connections(tx);
    ASSERT_EQ(conns.size(), 1u);
    EXPECT_EQ(conns[0].schema_name, "hc1");
    EXPECT_EQ(conns[0].login.secret_ref, "env:PW");
    EXPECT_EQ(conns[0].api_version, "55.0");
    auto maps = store::load_mappings(tx, conns[0].id);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0].config.sf_polling_seconds, 600);
    EXPECT_EQ(maps[0].state, "INITIAL");
    mapping_id = maps[0].id;
    store::set_mapping_state(tx, mapping_id, "DATA_SYNCED", "");
    store::set_high_water_mark(tx, mapping_id, std::string{"2024-05-06T07:08:09.123Z"});
    tx.commit();
  }
  {
    pqxx::work tx(conn);
    auto r = store::import_engine_config(tx, *parsed.config);
    EXPECT_EQ(r.connections_created, 0);
    EXPECT_EQ(r.mappings_created, 0);
    EXPECT_EQ(r.mappings_changed, 0);
    auto changed = parse_engine_config(cfg_text(900));
    r = store::import_engine_config(tx, *changed.config);
    EXPECT_EQ(r.mappings_changed, 1);
    tx.commit();
  }
  pqxx::work tx(conn);
  auto m = store::load_mapping(tx, mapping_id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->revision, 2);
  EXPECT_EQ(m->config.sf_polling_seconds, 900);
  EXPECT_EQ(m->state, "DATA_SYNCED");
  EXPECT_EQ(m->high_water_mark, "2024-05-06T07:08:09.123Z");
}

TEST_F(sync_read, two_connections_share_one_legacy_user_without_losing_cursors) {
  // Six objects of more than one page each, so every load holds a server cursor.
  std::map<std::string, json> fields{
    {"Account", {"Id", "IsDeleted", "SystemModstamp", "Name"}},
    {"Contact", {"Id", "IsDeleted", "SystemModstamp", "LastName"}},
    {"Lead", {"Id", "IsDeleted", "SystemModstamp", "LastName", "Company"}},
    {"Opportunity", {"Id", "IsDeleted", "SystemModstamp", "Name"}},
    {"Every__c", {"Id", "IsDeleted", "SystemModstamp", "Name"}},
    {"User", {"Id", "SystemModstamp", "Username"}}};
  for (const auto& [object, f] : fields) {
    if (object == "User")
      continue;
    json records = json::array();
    for (int i = 0; i < 2100; ++i) {
      if (object == "Contact")
        records.push_back({{"LastName", "L" + std::to_string(i)}});
      else if (object == "Lead")
        records.push_back({{"LastName", "L" + std::to_string(i)}, {"Company", "C"}});
      else
        records.push_back({{"Name", object + std::to_string(i)}});
    }
    ASSERT_EQ(load_records(*sf, *emu, object, records).size(), 2100u) << object;
  }
  json connections = json::array();
  for (const char* schema : {"hc1", "hc2"}) {
    json mappings = json::array();
    for (const auto& [object, f] : fields) {
      json fm = json::object();
      for (const auto& name : f)
        fm[name.get<std::string>()] = json::object();
      mappings.push_back({{"object_name", object}, {"config", {{"access", "read_only"}, {"fields", fm}}}});
    }
    connections.push_back({{"version", 1},
                           {"schema", schema},
                           {"salesforce",
                            {{"login_url", emu->base_url()},
                             {"username", "admin@sfemu.local"},
                             {"password_env", "SF_TEST_PASSWORD"}}},
                           {"connection", {{"name", schema}, {"api_version", "55.0"}}},
                           {"mappings", mappings}});
  }
  config_path = write_temp("sync_read_two", json{{"connections", connections}}.dump(2));
  node = child_process::start({bin_path("syncforced"), "--database-url", db->url(), "--grpc-address", "127.0.0.1:0",
                               "--node-name", "it-node", "--config", config_path, "--sync-workers", "12"},
                              {{"SF_TEST_PASSWORD", "sfemu"}, {"SYNCFORCE_TEST_POLL_SECONDS", "1"}});
  ASSERT_TRUE(wait_until(
    [&] {
      return count_of(db->url(), "SELECT count(*) FROM syncforce.mappings WHERE state IN "
                                 "('DATA_SYNCED', 'POLLING_SF_CHANGES')") == 12;
    },
    60s, 100ms))
    << node->output();
  EXPECT_NE(node->output().find("cursor_limit=10"), std::string::npos) << "legacy API version: 10 cursors per user";
  // How often a load had to wait for a cursor depends on timing: reported, not asserted.
  std::size_t waits = 0;
  for (auto at = node->output().find("no available query cursors"); at != std::string::npos;
       at = node->output().find("no available query cursors", at + 1))
    ++waits;
  std::cout << "loads that waited for a query cursor: " << waits << "\n";
  EXPECT_EQ(node->output().find("INVALID_QUERY_LOCATOR"), std::string::npos) << node->output();
  for (const auto& [object, f] : fields) {
    auto table = object;
    std::transform(table.begin(), table.end(), table.begin(), ::tolower);
    auto one = count_of(db->url(), "SELECT count(*) FROM hc1." + table);
    EXPECT_EQ(one, count_of(db->url(), "SELECT count(*) FROM hc2." + table)) << object;
    EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM (SELECT sfid FROM hc1." + table +
                                    " EXCEPT SELECT sfid FROM hc2." + table + ") d"),
              0)
      << object;
    if (object != "User") {
      EXPECT_EQ(one, 2100) << object;
    }
  }
  stop_node();
}

TEST_F(sync_read, a_configuration_file_naming_an_object_in_any_case_stores_describes_spelling) {
  auto mappings = every_mapping();
  mappings[0]["object_name"] = "EVERY__C";
  write_config(mappings);
  start_node();
  ASSERT_TRUE(wait_until([&] { return scalar(db->url(), "SELECT object_name FROM syncforce.mappings") == "Every__c"; },
                         30s))
    << node->output();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  EXPECT_NE(node->output().find("Object name EVERY__C stored as Every__c"), std::string::npos) << node->output();
  stop_node();
  // The file, imported again at the next start, matches the stored mapping: no second one, no change.
  start_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.mappings"), 1);
  EXPECT_EQ(scalar(db->url(), "SELECT object_name FROM syncforce.mappings"), "Every__c");
  EXPECT_EQ(scalar(db->url(), "SELECT revision::text FROM syncforce.mappings"), "1");
}
