// Issue 19 end to end: hc1 syncs Widget__c (20,000 records) in schema1 for an
// application that reaches it through its role's search_path, with views, a
// function, an index, a trigger, a foreign key and grants of its own on the
// table. `syncforce connection:clone` makes hc2 in schema2 (one more field),
// `syncforce cutover --dry-run` lists what it would do, and `syncforce cutover`
// moves the table while the application keeps inserting and updating. Then:
// every accepted write reached Salesforce exactly once with its last value,
// the application's objects work over schema2, the old table refuses writes
// with a clear error, and it is all in the audit trail. Also: a cutover that
// cannot drain rolls back to hc1 as before, and one whose node is killed mid-way
// is rolled back when the node comes back. And `cutover --move-tables`: the
// application names schema1.widget__c itself, and hc2's table moves into schema1
// under that name.

#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

const std::string token = "cutover-t0ken-5b1e9d";
const std::string sf_user = "cutover@example.com";
const std::string sf_password = "cutover-Pa55-77ab";

const char* cutover_org = R"({
  "users": [{"username": "cutover@example.com", "password": "cutover-Pa55-77ab"}],
  "objects": [
    {"name": "Widget__c", "key_prefix": "a01",
     "fields": [
       {"name": "Ext_Id__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "App_Key__c", "type": "string", "length": 40},
       {"name": "Text__c", "type": "string", "length": 100},
       {"name": "Count__c", "type": "int"}
     ]}
  ]
})";

struct cli_result {
  int code = -1;
  std::string output;
};

/// The application: a loop of INSERT and UPDATE through search_path (no schema
/// name), reconnecting and retrying a refused write, as a real one would. Its
/// rows have no external id, so each is a plain create in Salesforce: a write
/// sent twice would show as two records with the same App_Key__c.
struct application {
  std::string url;
  /// How it names the table: through search_path, or `schema1.widget__c` (--move-tables).
  std::string table = "widget__c";
  std::atomic<bool> stop{false};
  std::mutex mu;
  /// app key -> the last text accepted for it (the insert's, then each update's).
  std::map<std::string, std::string> accepted;
  long inserts = 0;
  long updates = 0;
  long refused = 0;
  std::vector<std::string> errors; ///< anything but a refusal
  std::optional<std::chrono::steady_clock::time_point> last_ok_before_refusal;
  std::optional<std::chrono::steady_clock::time_point> first_refused;
  std::optional<std::chrono::steady_clock::time_point> first_ok_after_refusal;
  std::string refusal_message;
  std::set<std::string> schemas_written; ///< the schema each accepted write went to

  void run() {
    std::unique_ptr<pqxx::connection> conn;
    long n = 0;
    std::optional<std::pair<std::string, std::string>> retry; // (sql, key/text) of a refused write
    while (!stop) {
      try {
        if (!conn)
          conn = std::make_unique<pqxx::connection>(url);
        std::string key;
        std::string text;
        bool insert = false;
        if (retry) {
          key = retry->first;
          text = retry->second;
          insert = text.rfind("ins-", 0) == 0;
        } else if (n % 3 != 2 || accepted.empty()) {
          key = "app-" + std::to_string(++n);
          text = "ins-" + std::to_string(n);
          insert = true;
        } else {
          ++n;
          std::lock_guard<std::mutex> lock(mu);
          auto it = accepted.begin();
          std::advance(it, static_cast<long>(n % accepted.size()));
          key = it->first;
          text = "upd-" + std::to_string(n);
        }
        retry = std::make_pair(key, text);
        pqxx::work tx(*conn);
        pqxx::result r;
        if (insert)
          r = tx.exec_params("INSERT INTO " + table + " AS widget__c (app_key__c, text__c) VALUES ($1, $2) RETURNING "
                             "(SELECT relnamespace::regnamespace::text FROM pg_class c WHERE c.oid = widget__c.tableoid)",
                             key, text);
        else
          r = tx.exec_params("UPDATE " + table + " AS widget__c SET text__c = $2 WHERE app_key__c = $1 RETURNING "
                             "(SELECT relnamespace::regnamespace::text FROM pg_class c WHERE c.oid = widget__c.tableoid)",
                             key, text);
        tx.commit();
        retry.reset();
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(mu);
        if (r.size() != 1) {
          errors.push_back((insert ? "insert " : "update ") + key + " touched " + std::to_string(r.size()) + " rows");
          continue;
        }
        schemas_written.insert(r[0][0].as<std::string>());
        accepted[key] = text;
        (insert ? inserts : updates) += 1;
        if (first_refused && !first_ok_after_refusal)
          first_ok_after_refusal = now;
        if (!first_refused)
          last_ok_before_refusal = now;
      } catch (const pqxx::sql_error& e) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(mu);
        if (e.sqlstate() == "55006") {
          ++refused;
          if (!first_refused) {
            first_refused = now;
            refusal_message = e.what();
          }
        } else {
          errors.push_back(e.sqlstate() + ": " + e.what());
        }
        conn.reset(); // a new session takes the role's new search_path
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back(e.what());
        conn.reset();
      }
    }
  }
};

struct cutover : ::testing::Test {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test starts PostgreSQL)";
    db = std::make_unique<scratch_database>(*url, "cutover");
    org_path = write_temp("cutover_org", cutover_org);
    token_path = write_temp("cutover_tokens", "ops:" + token + "\n");
    emu = std::make_unique<sfemu_process>(std::vector<std::string>{"--org", org_path});
    sf = std::make_unique<salesforce::client>(sf_config(*emu));
    app_role = "cutover_app_" + std::to_string(::getpid());
  }

  void TearDown() override {
    node.reset();
    if (db) {
      try {
        pqxx::connection c(db->url());
        pqxx::nontransaction q(c);
        q.exec("DROP OWNED BY " + q.quote_name(app_role));
        q.exec("DROP ROLE IF EXISTS " + q.quote_name(app_role));
      } catch (const std::exception&) {
        // the role was never made
      }
    }
    for (const auto& p : {org_path, token_path})
      if (!p.empty())
        std::remove(p.c_str());
  }

  void start_node() {
    node = child_process::start({bin_path("syncforced"), "--database-url", db->url(), "--grpc-address", "127.0.0.1:0",
                                 "--node-name", "cutover-node", "--admin-token-file", token_path, "--bulk-threshold",
                                 "1000000"},
                                {{"SF_PASSWORD", sf_password}, {"SYNCFORCE_TEST_POLL_SECONDS", "1"}});
    ASSERT_TRUE(node->wait_for_output("gRPC server listening", 20s)) << node->output();
    std::smatch m;
    auto out = node->output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("gRPC server listening\" port=(\\d+)"))) << out;
    server = "127.0.0.1:" + m[1].str();
    cli_result ready;
    ASSERT_TRUE(wait_until([&] { return (ready = cli({"health", "--service", "readiness"})).code == 0; }, 20s, 100ms))
      << ready.output << node->output();
  }

  cli_result cli(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 120s) {
    std::vector<std::string> argv{bin_path("syncforce"), "--server", server};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = child_process::start(argv, {{"SYNCFORCE_TOKEN", token}});
    cli_result r;
    r.code = p->wait_exit(timeout).value_or(-1);
    r.output = p->output();
    return r;
  }

  void sql(const std::string& statement) {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec(statement);
    tx.commit();
  }

  long count(const std::string& query) { return count_of(db->url(), query); }

  std::string app_url() {
    auto url = db->url();
    auto at = url.find("syncforce@");
    return url.substr(0, at) + app_role + "@" + url.substr(at + std::string{"syncforce@"}.size());
  }

  /// 20,000 records of Widget__c in sfemu (CSV, the fast path).
  void load_widgets(int n) {
    std::string csv = "Ext_Id__c,App_Key__c,Text__c,Count__c\n";
    for (int i = 0; i < n; ++i)
      csv += "ext-" + std::to_string(i) + ",seed-" + std::to_string(i) + ",seed text " + std::to_string(i) + "," + std::to_string(i) + "\n";
    salesforce::raw_call c;
    c.method = "POST";
    c.path = emu->base_url() + "/__sfemu/records/Widget__c?ids=false";
    c.body = csv;
    c.content_type = "text/csv";
    auto r = sf->call(c);
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }

  nlohmann::json control(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) {
    salesforce::raw_call c;
    c.method = method;
    c.path = emu->base_url() + "/__sfemu/" + path;
    if (!body.is_null()) {
      c.body = body.dump();
      c.content_type = "application/json";
    }
    auto r = sf->call(c);
    EXPECT_TRUE(r.ok()) << method << " " << path;
    return r.ok() ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json{};
  }

  /// hc1 in schema1 syncing Widget__c read-write, and the application's role and objects on its table.
  void set_up_hc1(int rows) {
    load_widgets(rows);
    start_node();
    auto r = cli({"connection:create", "hc1", "--schema", "schema1", "--login-url", emu->base_url(), "--username",
                  sf_user, "--secret-ref", "env:SF_PASSWORD"});
    ASSERT_EQ(r.code, 0) << r.output;
    r = cli({"-c", "hc1", "mapping:create", "Widget__c", "--fields", "Ext_Id__c,App_Key__c,Text__c", "--access", "read_write",
             "--upsert-field", "Ext_Id__c",
             "--polling", "120", "--wait"});
    ASSERT_EQ(r.code, 0) << r.output << node->output();
    ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM schema1.widget__c") == rows; }, 120s, 100ms));
    const auto role = "\"" + app_role + "\"";
    sql("CREATE ROLE " + role + " LOGIN");
    sql("ALTER ROLE " + role + " SET search_path = schema1, public");
    sql("GRANT USAGE ON SCHEMA schema1 TO " + role);
    sql("GRANT SELECT, INSERT, UPDATE ON schema1.widget__c TO " + role);
    sql("GRANT USAGE ON SEQUENCE schema1.widget__c_id_seq TO " + role);
    // The capture triggers write the trigger log as the application's role.
    sql("GRANT SELECT, INSERT ON schema1._trigger_log TO " + role);
    sql("GRANT USAGE ON SEQUENCE schema1._trigger_log_id_seq TO " + role);
    // The application's own objects on the table (not Syncforce's).
    sql("CREATE INDEX widget_text_idx ON schema1.widget__c (text__c)");
    sql("CREATE VIEW public.widget_names AS SELECT sfid, app_key__c, text__c FROM schema1.widget__c");
    sql("CREATE VIEW public.widget_total AS SELECT count(*) AS n FROM public.widget_names");
    sql("GRANT SELECT ON public.widget_names, public.widget_total TO " + role);
    sql("CREATE FUNCTION public.widget_text(key text) RETURNS text LANGUAGE sql STABLE AS "
        "'SELECT text__c FROM schema1.widget__c WHERE app_key__c = key'");
    sql("CREATE FUNCTION public.widget_count_loose() RETURNS bigint LANGUAGE plpgsql AS "
        "$$BEGIN RETURN (SELECT count(*) FROM widget__c); END$$");
    sql("CREATE TABLE public.widget_audit (app_key text, at timestamptz DEFAULT now())");
    sql("GRANT INSERT ON public.widget_audit TO " + role);
    sql("CREATE FUNCTION public.widget_audit_row() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN INSERT INTO public.widget_audit (app_key) VALUES (NEW.app_key__c); RETURN NEW; END$$");
    sql("CREATE TRIGGER widget_audit_trigger AFTER INSERT ON schema1.widget__c FOR EACH ROW "
        "WHEN (NEW.app_key__c LIKE 'app-%') EXECUTE FUNCTION public.widget_audit_row()");
    sql("CREATE TABLE public.widget_notes (widget_sfid varchar(18) REFERENCES schema1.widget__c (sfid), note text)");
    sql("INSERT INTO public.widget_notes SELECT sfid, 'first' FROM schema1.widget__c WHERE app_key__c = 'seed-7'");
  }

  /// Every Salesforce record of Widget__c: app key -> texts (one per record).
  std::map<std::string, std::vector<std::string>> salesforce_widgets() {
    std::map<std::string, std::vector<std::string>> out;
    auto cursor = sf->query("SELECT App_Key__c, Text__c FROM Widget__c");
    while (true) {
      auto page = cursor.next_page();
      EXPECT_TRUE(page.ok());
      if (!page.ok())
        break;
      for (const auto& r : page->records)
        out[std::string{r.text("App_Key__c")}].push_back(std::string{r.text("Text__c")});
      if (page->next_records_url.empty())
        break;
    }
    return out;
  }

  std::unique_ptr<scratch_database> db;
  std::unique_ptr<sfemu_process> emu;
  std::unique_ptr<salesforce::client> sf;
  std::unique_ptr<child_process> node;
  std::string org_path;
  std::string token_path;
  std::string server;
  std::string app_role;
};

TEST_F(cutover, moves_the_tables_while_the_application_writes_and_loses_nothing) {
  constexpr int rows = 20'000;
  ASSERT_NO_FATAL_FAILURE(set_up_hc1(rows));

  // hc2: the same mapping plus Count__c, loaded while hc1 keeps syncing.
  auto r = cli({"connection:clone", "hc1", "--as", "hc2", "--schema", "schema2", "--add-fields", "Widget__c.Count__c",
                "--wait"});
  ASSERT_EQ(r.code, 0) << r.output << node->output();
  EXPECT_NE(r.output.find("shares that user's query cursors"), std::string::npos) << r.output;
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM schema2.widget__c") == rows; }, 120s, 100ms));
  EXPECT_EQ(count("SELECT count(*) FROM schema2.widget__c WHERE count__c IS NOT NULL"), rows)
    << "the added field is loaded";
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.connections c JOIN syncforce.connections s ON s.name = 'hc1' "
                  "WHERE c.name = 'hc2' AND c.username = s.username AND c.secret_ref = s.secret_ref"),
            1)
    << "hc2 logs in as hc1's integration user";

  // A bad request changes nothing and says what is wrong.
  r = cli({"connection:clone", "hc1", "--as", "hc3", "--schema", "schema2", "--add-fields", "Nope__c.X"});
  EXPECT_EQ(r.code, 6) << r.output;
  EXPECT_NE(r.output.find("schema schema2 is used by connection hc2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("the clone has no mapping of Nope__c"), std::string::npos) << r.output;
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.connections WHERE name = 'hc3'"), 0);

  // The dry run lists every dependent object and changes nothing.
  r = cli({"cutover", "hc1", "hc2", "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.output;
  std::cout << r.output; // what an operator reads before the real thing
  for (const auto* needle :
       {"view public.widget_names", "view public.widget_total", "function public.widget_text(key text)",
        "function public.widget_count_loose()", "index schema1.widget_text_idx",
        "trigger schema1.widget__c widget_audit_trigger", "foreign_key public.widget_notes widget_notes_widget_sfid_fkey",
        "grant schema2.widget__c", "search_path role " /* the app role's setting names schema1 */, "fence:", "drain:",
        "catch up:", "switch, in one transaction"})
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle << "\n" << r.output;
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.cutovers"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'syncforce_cutover%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'schema2' AND indexname = 'widget_text_idx'"), 0);

  // The application writes throughout.
  application app;
  app.url = app_url();
  std::thread writer([&] { app.run(); });
  ASSERT_TRUE(wait_until([&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts >= 50; }, 30s));

  r = cli({"cutover", "hc1", "hc2"}, 300s);
  const long inserts_at_switch = [&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts; }();
  ASSERT_TRUE(wait_until([&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts >= inserts_at_switch + 50; },
                         30s));
  app.stop = true;
  writer.join();
  ASSERT_EQ(r.code, 0) << r.output << node->output();
  std::cout << r.output;
  EXPECT_NE(r.output.find("Done. Application writes to the moved tables were refused for"), std::string::npos)
    << r.output;
  EXPECT_TRUE(app.errors.empty()) << app.errors.size() << " unexpected error(s), first: " << app.errors.front();
  EXPECT_EQ(app.schemas_written, (std::set<std::string>{"schema1", "schema2"}))
    << "writes went to schema1 before the switch and to schema2 after it";
  EXPECT_NE(app.refusal_message.find("syncforce cutover"), std::string::npos) << app.refusal_message;
  ASSERT_TRUE(app.first_refused && app.first_ok_after_refusal && app.last_ok_before_refusal);
  const auto observed = std::chrono::duration_cast<std::chrono::milliseconds>(*app.first_ok_after_refusal -
                                                                               *app.last_ok_before_refusal);
  const auto fence_ms = count("SELECT (extract(epoch FROM switched_at - fenced_at) * 1000)::bigint FROM "
                              "syncforce.cutovers WHERE status = 'done'");
  RecordProperty("write_downtime_ms_fence_to_switch", std::to_string(fence_ms));
  RecordProperty("write_downtime_ms_observed", std::to_string(observed.count()));
  std::cout << "cutover of " << rows << " rows: writes refused for " << fence_ms
            << " ms (fence to switch); the application saw " << observed.count() << " ms between accepted writes ("
            << app.refused << " refusals)\n";

  // Every accepted write reaches Salesforce exactly once, with its last value.
  std::map<std::string, std::vector<std::string>> in_sf;
  bool settled = wait_until(
    [&] {
      in_sf = salesforce_widgets();
      for (const auto& [key, text] : app.accepted) {
        auto it = in_sf.find(key);
        if (it == in_sf.end() || it->second.size() != 1 || it->second.front() != text)
          return false;
      }
      return true;
    },
    90s, 500ms);
  long missing = 0, duplicated = 0, stale = 0;
  for (const auto& [key, text] : app.accepted) {
    auto it = in_sf.find(key);
    if (it == in_sf.end())
      ++missing;
    else if (it->second.size() != 1)
      ++duplicated;
    else if (it->second.front() != text)
      ++stale;
  }
  EXPECT_TRUE(settled) << missing << " missing, " << duplicated << " duplicated, " << stale << " stale\n"
                       << node->output().substr(node->output().size() > 4000 ? node->output().size() - 4000 : 0);
  EXPECT_EQ(static_cast<long>(in_sf.size()), rows + app.inserts) << "nothing else was created in Salesforce";

  // hc2 owns the table; hc1 keeps none of it; the audit trail has the cutover.
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.mappings m JOIN syncforce.connections c ON c.id = m.connection_id "
                  "WHERE c.name = 'hc1'"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.audit_log WHERE action IN ('cutover.start', 'cutover.switch') "
                  "AND actor = 'ops'"),
            2);
  // Both connections were paused for the switch (hc1 once drained, hc2 once caught up) and resumed
  // by the switch's own transaction: the resumes carry its timestamp; nothing is left paused.
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.connections WHERE name IN ('hc1', 'hc2') AND state = 'PAUSED'"), 0);
  EXPECT_EQ(count("SELECT CASE WHEN string_agg(c.name, ',' ORDER BY a.id) = 'hc1,hc2' THEN 1 ELSE 0 END FROM "
                  "syncforce.audit_log a JOIN syncforce.connections c ON c.id = a.connection_id WHERE a.action = "
                  "'connection.pause' AND a.actor = 'ops' AND a.id > (SELECT id FROM syncforce.audit_log WHERE "
                  "action = 'cutover.start')"),
            1)
    << "hc1 paused, then hc2, after the cutover caught up";
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.audit_log r JOIN syncforce.audit_log s ON s.action = "
                  "'cutover.switch' AND s.at = r.at WHERE r.action = 'connection.resume' AND r.actor = 'ops'"),
            2)
    << "both resumed in the switch transaction";
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.audit_log p JOIN syncforce.audit_log s ON s.action = "
                  "'cutover.switch' WHERE p.action = 'connection.pause' AND p.at >= s.at"),
            0)
    << "paused before the switch";
  r = cli({"audit", "--limit", "20"});
  EXPECT_NE(r.output.find("cutover.switch"), std::string::npos) << r.output;
  r = cli({"-c", "hc1", "info"});
  EXPECT_TRUE(std::regex_search(r.output, std::regex("Cutover: +cutover 1 hc1 \\(schema1\\) -> hc2 \\(schema2\\): done at "
                                                     "[-0-9T:]+Z; writes refused for [0-9]+ ms")))
    << r.output;

  // The application's objects work over schema2.
  pqxx::connection as_app(app_url());
  pqxx::work tx(as_app);
  EXPECT_EQ(tx.exec1("SELECT (current_schemas(false))[1]")[0].as<std::string>(), "schema2")
    << "a new session's search_path starts with schema2";
  EXPECT_EQ(tx.exec1("SELECT n FROM public.widget_total")[0].as<long>(),
            tx.exec1("SELECT count(*) FROM schema2.widget__c")[0].as<long>());
  std::string missing_rows;
  for (const auto& [key, text] : app.accepted)
    if (tx.exec_params1("SELECT count(*) FROM public.widget_names WHERE app_key__c = $1", key)[0].as<long>() != 1)
      missing_rows += " " + key + "[schema1: " +
                      tx.exec_params1("SELECT coalesce(string_agg(coalesce(sfid, 'no sfid') || ' ' || "
                                      "coalesce(systemmodstamp::text, 'no stamp'), '; '), 'none') FROM "
                                      "schema1.widget__c WHERE app_key__c = $1",
                                      key)[0]
                        .as<std::string>() +
                      "]";
  EXPECT_TRUE(missing_rows.empty()) << "app rows not in schema2 exactly once:" << missing_rows;
  const auto& [some_key, some_text] = *app.accepted.rbegin();
  EXPECT_EQ(tx.exec_params1("SELECT public.widget_text($1)", some_key)[0].as<std::string>(), some_text);
  tx.commit();
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'schema2' AND indexname = 'widget_text_idx'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_constraint WHERE conname = 'widget_notes_widget_sfid_fkey' AND "
                  "confrelid = 'schema2.widget__c'::regclass"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname = 'widget_audit_trigger' AND "
                  "tgrelid = 'schema2.widget__c'::regclass"),
            1);
  // Inserts after the switch went through the carried trigger (schema2) as before it (schema1).
  EXPECT_EQ(count("SELECT count(*) FROM public.widget_audit"), app.inserts);

  // A session that still resolves schema1 is refused with a clear error, never silently written.
  pqxx::connection old_session(app_url());
  pqxx::work old_tx(old_session);
  old_tx.exec0("SET LOCAL search_path = schema1");
  try {
    old_tx.exec0("INSERT INTO widget__c (app_key__c, text__c) VALUES ('late', 'late')");
    ADD_FAILURE() << "the old table accepted a write";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "55006");
    EXPECT_NE(std::string{e.what()}.find("moves it to schema schema2"), std::string::npos) << e.what();
  }
}

TEST_F(cutover, refuses_what_it_cannot_carry_and_rolls_back_what_cannot_drain) {
  constexpr int rows = 2'000;
  ASSERT_NO_FATAL_FAILURE(set_up_hc1(rows));
  auto r = cli({"connection:clone", "hc1", "--as", "hc2", "--schema", "schema2", "--wait"});
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM schema2.widget__c") == rows; }, 120s, 100ms));

  // A foreign key on the id column cannot be carried (ids are numbered anew): refused, nothing changed.
  sql("CREATE TABLE public.widget_by_id (widget_id integer REFERENCES schema1.widget__c (id))");
  r = cli({"cutover", "hc1", "hc2"});
  EXPECT_EQ(r.code, 6) << r.output;
  EXPECT_NE(r.output.find("the id column is numbered anew"), std::string::npos) << r.output;
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.cutovers"), 0);
  r = cli({"cutover", "hc1", "hc2", "--dry-run"});
  EXPECT_EQ(r.code, 6) << "a dry run that would be refused says so: " << r.output;
  EXPECT_NE(r.output.find("CANNOT BE CARRIED"), std::string::npos) << r.output;
  sql("DROP TABLE public.widget_by_id");
  r = cli({"cutover", "hc1", "hc2", "--dry-run", "--roles", "nobody_by_that_name"});
  EXPECT_EQ(r.code, 6) << r.output;
  EXPECT_NE(r.output.find("there is no role named nobody_by_that_name"), std::string::npos) << r.output;

  // hc1 cannot send its changes (Salesforce refuses writes): the drain times out and everything rolls back.
  control("POST", "faults", {{"route", "composite/sobjects"}, {"status", 503}});
  sql("INSERT INTO schema1.widget__c (app_key__c, text__c) VALUES ('stuck-1', 'stuck')");
  r = cli({"cutover", "hc1", "hc2", "--drain-timeout", "2"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("Rolled back"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("were still not sent to Salesforce"), std::string::npos) << r.output;
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.cutovers WHERE status = 'rolled_back'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'syncforce_cutover%'"), 0) << "fence dropped";
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.mappings m JOIN syncforce.connections c ON c.id = m.connection_id "
                  "WHERE c.name = 'hc1'"),
            1)
    << "hc1 keeps its mapping";
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.audit_log WHERE action = 'cutover.rollback'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.audit_log WHERE action = 'connection.pause'"), 0)
    << "nothing is paused before the drain is done";
  r = cli({"-c", "hc2", "info"});
  EXPECT_NE(r.output.find("Cutover:       cutover 1 hc1 (schema1) -> hc2 (schema2): rolled back at"), std::string::npos)
    << r.output;
  // The application writes to schema1 again, and hc1 sends it once Salesforce answers.
  pqxx::connection as_app(app_url());
  pqxx::work tx(as_app);
  tx.exec0("INSERT INTO widget__c (app_key__c, text__c) VALUES ('after-rollback', 'ok')");
  tx.commit();
  control("DELETE", "faults");
  EXPECT_TRUE(wait_until(
    [&] {
      auto w = salesforce_widgets();
      return w.count("after-rollback") == 1 && w.count("stuck-1") == 1;
    },
    60s, 500ms));

  // A node killed mid-cutover: the cutover is rolled back when it comes back.
  control("POST", "faults", {{"route", "composite/sobjects"}, {"status", 503}});
  sql("INSERT INTO schema1.widget__c (app_key__c, text__c) VALUES ('stuck-2', 'stuck')");
  std::vector<std::string> argv{bin_path("syncforce"), "--server", server, "cutover", "hc1", "hc2", "--drain-timeout",
                                "120"};
  auto running = child_process::start(argv, {{"SYNCFORCE_TOKEN", token}});
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM syncforce.cutovers WHERE step = 'fenced' AND "
                                            "status = 'running'") == 1; },
                         30s, 50ms));
  ASSERT_TRUE(node->signal(SIGKILL));
  node->wait_exit(10s);
  running->wait_exit(10s);
  EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname = 'syncforce_cutover_fence'"), 1)
    << "the fence is still up while no node runs";
  control("DELETE", "faults");
  ASSERT_NO_FATAL_FAILURE(start_node());
  EXPECT_TRUE(wait_until([&] { return count("SELECT count(*) FROM syncforce.cutovers WHERE status = 'running'") == 0; },
                         30s, 100ms))
    << node->output();
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.cutovers WHERE status = 'rolled_back' AND error LIKE "
                  "'%stopped at step fenced%'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'syncforce_cutover%'"), 0);
  EXPECT_TRUE(wait_until([&] { return salesforce_widgets().count("stuck-2") == 1; }, 60s, 500ms))
    << "hc1 syncs as before";

  // Killed once both are paused (the switch waits for a lock the application holds on the table
  // whose foreign key it must point at schema2): a Resume by hand is refused meanwhile, both stay paused while no node runs, and
  // the rollback on restart resumes them, since the user had not paused them.
  ASSERT_TRUE(wait_until([&] { return cli({"cutover", "hc1", "hc2", "--dry-run"}).code == 0; }, 90s, 500ms))
    << cli({"cutover", "hc1", "hc2", "--dry-run"}).output;
  pqxx::connection holder(db->url());
  pqxx::work holding(holder);
  holding.exec0("LOCK TABLE public.widget_notes IN ACCESS SHARE MODE");
  // The restarted node listens on another port.
  std::vector<std::string> stalling{bin_path("syncforce"), "--server", server, "cutover", "hc1", "hc2",
                                    "--lock-timeout", "120"};
  auto stalled = child_process::start(stalling, {{"SYNCFORCE_TOKEN", token}});
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM syncforce.cutovers WHERE status = 'running' AND "
                                            "step = 'paused'") == 1 &&
                                      count("SELECT count(*) FROM syncforce.connections WHERE name IN ('hc1', 'hc2') "
                                            "AND state = 'PAUSED'") == 2; },
                         90s, 50ms))
    << stalled->output() << node->output();
  r = cli({"-c", "hc1", "resume"});
  EXPECT_EQ(r.code, 7) << r.output;
  EXPECT_NE(r.output.find("it pauses and resumes the connection itself"), std::string::npos) << r.output;
  ASSERT_TRUE(node->signal(SIGKILL));
  node->wait_exit(10s);
  stalled->wait_exit(10s);
  holding.abort();
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.connections WHERE name IN ('hc1', 'hc2') AND state = 'PAUSED'"), 2)
    << "paused while no node runs";
  control("DELETE", "faults");
  ASSERT_NO_FATAL_FAILURE(start_node());
  EXPECT_TRUE(wait_until([&] { return count("SELECT count(*) FROM syncforce.cutovers WHERE status = 'running'") == 0; },
                         30s, 100ms))
    << node->output();
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.cutovers WHERE status = 'rolled_back' AND error LIKE "
                  "'%stopped at step paused%'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.connections WHERE name IN ('hc1', 'hc2') AND state = 'PAUSED'"), 0)
    << "the rollback resumed what the cutover had paused";
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.audit_log WHERE action = 'connection.resume' AND actor LIKE 'node:%'"),
            2);
  // The user's own pause is the user's: a TARGET paused by hand is refused and stays paused.
  r = cli({"-c", "hc2", "pause"});
  EXPECT_EQ(r.code, 0) << r.output;
  r = cli({"cutover", "hc1", "hc2"});
  EXPECT_EQ(r.code, 6) << r.output;
  EXPECT_NE(r.output.find("hc2 is PAUSED"), std::string::npos) << r.output;
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.connections WHERE name = 'hc2' AND state = 'PAUSED'"), 1);
}

TEST_F(cutover, move_tables_keeps_the_application_naming_the_source_schema) {
  constexpr int rows = 2'000;
  ASSERT_NO_FATAL_FAILURE(set_up_hc1(rows));
  auto r = cli({"connection:clone", "hc1", "--as", "hc2", "--schema", "schema2", "--add-fields", "Widget__c.Count__c",
                "--wait"});
  ASSERT_EQ(r.code, 0) << r.output << node->output();
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM schema2.widget__c") == rows; }, 120s, 100ms));
  // An SQL-standard body is bound to the table's OID: it must be made again over the moved table.
  sql("CREATE FUNCTION public.widget_count_bound() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC "
      "SELECT count(*) FROM schema1.widget__c; END");
  const auto mappings_before = count("SELECT count(*) FROM syncforce.mappings");
  const auto old_oid = count("SELECT 'schema1.widget__c'::regclass::oid::bigint");
  const auto new_oid = count("SELECT 'schema2.widget__c'::regclass::oid::bigint");
  const auto paths = count("SELECT count(*) FROM pg_db_role_setting s, unnest(s.setconfig) c WHERE c LIKE "
                           "'search_path=%schema1%' AND c NOT LIKE '%schema2%'");
  ASSERT_GE(paths, 1);
  auto unchanged = [&](const std::string& when) {
    EXPECT_EQ(count("SELECT 'schema1.widget__c'::regclass::oid::bigint"), old_oid) << when;
    EXPECT_EQ(count("SELECT 'schema2.widget__c'::regclass::oid::bigint"), new_oid) << when;
    EXPECT_EQ(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'schema1_before_schema2'"), 0) << when;
    EXPECT_EQ(count("SELECT count(*) FROM syncforce.mappings"), mappings_before) << when;
    EXPECT_EQ(count("SELECT count(*) FROM syncforce.mappings m JOIN syncforce.connections c ON c.id = "
                    "m.connection_id WHERE c.name = 'hc1' AND m.config::text LIKE '%Count__c%'"),
              0)
      << when;
    EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'syncforce_cutover%'"), 0) << when;
    EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname = 'hc_widget__c_logtrigger' AND tgrelid = "
                    "'schema2.widget__c'::regclass AND tgfoid = 'schema2.hc_widget__c_logger()'::regprocedure"),
              1)
      << when;
    EXPECT_EQ(count("SELECT count(*) FROM pg_db_role_setting s, unnest(s.setconfig) c WHERE c LIKE "
                    "'search_path=%schema1%' AND c NOT LIKE '%schema2%'"),
              paths)
      << when;
  };

  // The dry run shows the moves' SQL, no search_path change, and changes nothing.
  r = cli({"cutover", "hc1", "hc2", "--move-tables", "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.output;
  std::cout << r.output;
  for (const auto* needle :
       {"tables moved into schema schema1 under their names", "table schema1.widget__c",
        "ALTER TABLE \"schema1\".\"widget__c\" SET SCHEMA \"schema1_before_schema2\"",
        "ALTER TABLE \"schema2\".\"widget__c\" SET SCHEMA \"schema1\"", "INSERT INTO \"schema1\".\"_trigger_log\"",
        "view public.widget_names", "function public.widget_count_bound()", "widget_notes_widget_sfid_fkey",
        "trigger schema1.widget__c widget_audit_trigger", "set aside in schema schema1_before_schema2"})
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle << "\n" << r.output;
  EXPECT_EQ(r.output.find("search_path role"), std::string::npos) << r.output;
  r = cli({"--json", "cutover", "hc1", "hc2", "--move-tables", "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  EXPECT_EQ(j["move_tables"], true);
  EXPECT_EQ(j["objects"][0]["kind"], "table") << r.output;
  r = cli({"cutover", "hc1", "hc2", "--move-tables", "--roles", app_role});
  EXPECT_EQ(r.code, 6) << r.output;
  EXPECT_NE(r.output.find("does not apply with move_tables"), std::string::npos) << r.output;
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.cutovers"), 0);
  unchanged("after the dry run");

  // A cutover that cannot drain rolls back: both tables where they were, the mappings as before.
  control("POST", "faults", {{"route", "composite/sobjects"}, {"status", 503}});
  sql("INSERT INTO schema1.widget__c (app_key__c, text__c) VALUES ('stuck-1', 'stuck')");
  r = cli({"cutover", "hc1", "hc2", "--move-tables", "--drain-timeout", "2"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("Rolled back"), std::string::npos) << r.output;
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.cutovers WHERE status = 'rolled_back'"), 1);
  unchanged("after the rollback");
  control("DELETE", "faults");
  ASSERT_TRUE(wait_until([&] { return salesforce_widgets().count("stuck-1") == 1; }, 60s, 500ms))
    << "hc1 syncs as before";

  // The application names schema1.widget__c itself and writes throughout.
  application app;
  app.url = app_url();
  app.table = "schema1.widget__c";
  std::thread writer([&] { app.run(); });
  ASSERT_TRUE(wait_until([&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts >= 50; }, 30s));
  r = cli({"cutover", "hc1", "hc2", "--move-tables"}, 300s);
  const long inserts_at_switch = [&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts; }();
  const bool wrote_after =
    wait_until([&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts >= inserts_at_switch + 50; }, 30s);
  app.stop = true;
  writer.join();
  ASSERT_EQ(r.code, 0) << r.output << node->output();
  ASSERT_TRUE(wrote_after) << "the application kept writing after the switch";
  std::cout << r.output;
  EXPECT_TRUE(app.errors.empty()) << app.errors.size() << " unexpected error(s), first: " << app.errors.front();
  EXPECT_EQ(app.schemas_written, (std::set<std::string>{"schema1"}));
  EXPECT_GT(app.refused, 0) << "the fence refused writes for a while";

  // The moved table is hc2's (with Count__c) under schema1's name; hc1's is set aside, fenced.
  EXPECT_EQ(count("SELECT 'schema1.widget__c'::regclass::oid::bigint"), new_oid);
  EXPECT_EQ(count("SELECT 'schema1_before_schema2.widget__c'::regclass::oid::bigint"), old_oid);
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE oid = to_regclass('schema2.widget__c')"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname = 'hc_widget__c_logtrigger' AND tgrelid = "
                  "'schema1.widget__c'::regclass AND tgfoid = 'schema1.hc_widget__c_logger()'::regprocedure"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_proc WHERE pronamespace = 'schema2'::regnamespace AND proname LIKE "
                  "'hc_widget__c_%'"),
            0);
  // hc1 syncs it with hc2's mapping (its added field, its mark); hc2 has none left.
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.mappings m JOIN syncforce.connections c ON c.id = m.connection_id "
                  "WHERE c.name = 'hc1' AND m.config::text LIKE '%Count__c%' AND m.high_water_mark IS NOT NULL"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.mappings m JOIN syncforce.connections c ON c.id = m.connection_id "
                  "WHERE c.name = 'hc2'"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_db_role_setting s, unnest(s.setconfig) c WHERE c LIKE '%schema2%'"), 0)
    << "no search_path names schema2";

  // Every accepted write reaches Salesforce exactly once with its last value: those after the
  // switch through the moved table's capture triggers, schema1's trigger log and hc1's writer.
  std::map<std::string, std::vector<std::string>> in_sf;
  bool settled = wait_until(
    [&] {
      in_sf = salesforce_widgets();
      for (const auto& [key, text] : app.accepted) {
        auto it = in_sf.find(key);
        if (it == in_sf.end() || it->second.size() != 1 || it->second.front() != text)
          return false;
      }
      return true;
    },
    90s, 500ms);
  EXPECT_TRUE(settled) << node->output().substr(node->output().size() > 4000 ? node->output().size() - 4000 : 0);
  EXPECT_EQ(static_cast<long>(in_sf.size()), rows + 1 + app.inserts) << "nothing else was created in Salesforce";
  EXPECT_GT(count("SELECT count(*) FROM (SELECT created_at, table_name FROM schema1._trigger_log UNION ALL SELECT "
                  "created_at, table_name FROM schema1._trigger_log_archive) l WHERE l.table_name = 'widget__c' AND "
                  "l.created_at > (SELECT switched_at FROM syncforce.cutovers WHERE status = 'done')"),
            0)
    << "writes after the switch were captured in schema1's trigger log";
  EXPECT_TRUE(wait_until([&] { return count("SELECT count(*) FROM schema1.widget__c WHERE sfid IS NULL") == 0; },
                         60s, 200ms))
    << "every row written after the switch got its sfid back";

  // A Salesforce change is polled into the moved table (with hc2's added field).
  salesforce::raw_call c;
  c.method = "POST";
  c.path = emu->base_url() + "/__sfemu/records/Widget__c?ids=false";
  c.body = "Ext_Id__c,App_Key__c,Text__c,Count__c\next-polled,polled-1,polled,42\n";
  c.content_type = "text/csv";
  ASSERT_TRUE(sf->call(c).ok());
  EXPECT_TRUE(wait_until([&] { return count("SELECT count(*) FROM schema1.widget__c WHERE app_key__c = 'polled-1' "
                                            "AND count__c = 42") == 1; },
                         60s, 200ms))
    << node->output().substr(node->output().size() > 4000 ? node->output().size() - 4000 : 0);

  // The application's objects work over the moved table.
  pqxx::connection as_app(app_url());
  pqxx::work tx(as_app);
  const auto total = tx.exec1("SELECT count(*) FROM schema1.widget__c")[0].as<long>();
  EXPECT_EQ(tx.exec1("SELECT n FROM public.widget_total")[0].as<long>(), total);
  const auto& [some_key, some_text] = *app.accepted.rbegin();
  EXPECT_EQ(tx.exec_params1("SELECT public.widget_text($1)", some_key)[0].as<std::string>(), some_text);
  tx.commit();
  EXPECT_EQ(count("SELECT public.widget_count_bound()"), total);
  EXPECT_EQ(count("SELECT count(*) FROM pg_constraint WHERE conname = 'widget_notes_widget_sfid_fkey' AND "
                  "confrelid = 'schema1.widget__c'::regclass"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname = 'widget_audit_trigger' AND "
                  "tgrelid = 'schema1.widget__c'::regclass"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'schema1' AND tablename = 'widget__c' AND "
                  "indexname = 'widget_text_idx'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM public.widget_audit"), app.inserts);

  // The set-aside table refuses writes.
  pqxx::connection old_session(db->url());
  pqxx::work old_tx(old_session);
  try {
    old_tx.exec0("INSERT INTO schema1_before_schema2.widget__c (app_key__c, text__c) VALUES ('late', 'late')");
    ADD_FAILURE() << "the set-aside table accepted a write";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "55006") << e.what();
  }
}

} // namespace
