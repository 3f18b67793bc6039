#include "tests/chaos/chaos.hpp"

#include <pqxx/pqxx>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

namespace syncforce::chaos {

namespace {

// ---- the org and the mapping --------------------------------------------------------

const char* org_file = R"({
  "objects": [
    {"name": "Chaos__c", "label": "Chaos", "key_prefix": "a0C",
     "fields": [
       {"name": "Ext__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Text__c", "type": "string", "length": 100},
       {"name": "Count__c", "type": "int"},
       {"name": "Amount__c", "type": "double", "precision": 18, "scale": 2},
       {"name": "Flag__c", "type": "boolean"},
       {"name": "Day__c", "type": "date"},
       {"name": "Note__c", "type": "string", "length": 100}
     ]}
  ]
})";

json chaos_mapping() {
  json fields = json::object();
  for (const char* f : {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name", "Ext__c", "Text__c", "Count__c",
                        "Amount__c", "Flag__c", "Day__c"})
    fields[f] = json::object();
  return {{"object_name", "Chaos__c"},
          {"config",
           {{"access", "read_write"},
            {"sf_polling_seconds", 120},
            {"upsert_field", "Ext__c"},
            {"fields", fields},
            {"indexes", {{"Ext__c", {{"unique", true}}}}}}}};
}

std::string temp_file(const std::string& name, const std::string& text) {
  auto path = "/tmp/syncforce-chaos-" + name + "." + std::to_string(::getpid()) + "." + std::to_string(std::rand());
  std::ofstream(path) << text;
  return path;
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string last_lines(const std::string& text, std::size_t n) {
  std::size_t pos = text.empty() || text.back() != '\n' ? text.size() : text.size() - 1;
  for (std::size_t i = 0; i < n && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  return text.substr(pos);
}

// ---- the report -------------------------------------------------------------------------

std::mutex rows_mutex;
std::vector<report_row>& rows() {
  static std::vector<report_row> r;
  return r;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

/// The three load averages of /proc/loadavg.
std::string load_average() {
  std::istringstream in(read_first_line("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

/// The command that replays `scenario` of this run. Both suites share this harness:
/// chaos_test replays through scripts/chaos, cluster_test (built with
/// SYNCFORCE_CLUSTER_SUITE) through its ctest entry with the seed and a gtest filter.
std::string replay_command(const std::string& scenario) {
  const auto& s = run_settings();
#ifdef SYNCFORCE_CLUSTER_SUITE
  return "SYNCFORCE_CHAOS_SEED=" + std::to_string(s.seed) + (s.long_form ? " SYNCFORCE_CHAOS_LONG=1" : "") +
         " GTEST_FILTER='*." + scenario + "' scripts/test -- -R '^cluster_test$'";
#else
  return "scripts/chaos --seed " + std::to_string(s.seed) + (s.long_form ? " --long" : "") + " --scenario " + scenario;
#endif
}

/// Prints the seed first and writes the report last.
class chaos_environment : public ::testing::Environment {
public:
  void SetUp() override {
    const auto& s = run_settings();
    started_ = std::chrono::steady_clock::now();
    started_at_ = now_utc();
    load_at_start_ = load_average();
    std::cout << "chaos: seed " << s.seed << " (" << (s.long_form ? "long" : "short")
              << " form; replay: " << replay_command("NAME") << ")" << std::endl;
  }

  void TearDown() override {
    const auto& s = run_settings();
    std::ostringstream md;
    double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const char* commit = std::getenv("SYNCFORCE_CHAOS_COMMIT");
    md << "# Syncforce chaos suite (scripts/chaos" << (s.long_form ? " --long" : "") << ")\n\n";
    md << "- When: " << started_at_ << " (" << static_cast<long>(total) << " s); commit "
       << (commit != nullptr ? commit : "unknown") << "\n";
    md << "- Seed: " << s.seed << " (replay: `" << replay_command("NAME") << "`)\n";
    md << "- Machine: " << std::thread::hardware_concurrency() << " cores; load average at start " << load_at_start_
       << ", at end " << load_average() << "\n";
    md << "- Real processes on 127.0.0.1: syncforced, PostgreSQL 15, sfemu. A scenario passes when, after its "
          "faults, both sides converge: every record of Chaos__c equal in sfemu and PostgreSQL field by field, "
          "the expected number of records, sfids unique, no duplicate record in sfemu, no failed write, the "
          "trigger log drained.\n\n";
    md << "| scenario | seed | iterations | records | time to converge s | scenario s | result | notes |\n";
    md << "|---|---:|---:|---:|---:|---:|---|---|\n";
    std::lock_guard<std::mutex> lock(rows_mutex);
    for (const auto& r : rows()) {
      md << "| " << r.scenario << " | " << s.seed << " | " << r.iterations << " | " << r.records << " | ";
      if (r.converge_seconds) {
        std::ostringstream secs;
        secs << std::fixed << std::setprecision(1) << *r.converge_seconds;
        md << secs.str();
      } else {
        md << "did not converge";
      }
      md << " | " << static_cast<long>(r.seconds + 0.5) << " | " << (r.passed ? "PASS" : "FAIL") << " | " << r.note
         << " |\n";
    }
    std::cout << "\n" << md.str() << std::endl;
    if (!s.report_path.empty()) {
      std::ofstream(s.report_path) << md.str();
      std::cout << "chaos: report written to " << s.report_path << std::endl;
    }
  }

private:
  std::chrono::steady_clock::time_point started_;
  std::string started_at_;
  std::string load_at_start_;
};

[[maybe_unused]] auto* const environment = ::testing::AddGlobalTestEnvironment(new chaos_environment);

} // namespace

const settings& run_settings() {
  static const settings s = [] {
    settings r;
    if (const char* seed = std::getenv("SYNCFORCE_CHAOS_SEED"); seed != nullptr && *seed != '\0')
      r.seed = std::strtoull(seed, nullptr, 10);
    else
      r.seed = std::random_device{}() % 1000000;
    const char* long_form = std::getenv("SYNCFORCE_CHAOS_LONG");
    r.long_form = long_form != nullptr && std::string(long_form) == "1";
    if (const char* p = std::getenv("SYNCFORCE_CHAOS_REPORT"))
      r.report_path = p;
    const char* logs = std::getenv("SYNCFORCE_CHAOS_LOGS");
    r.log_dir = logs != nullptr && *logs != '\0' ? logs : "/tmp/syncforce-chaos-" + std::to_string(r.seed);
    return r;
  }();
  return s;
}

// ---- fixture ------------------------------------------------------------------------------

void scenario::SetUp() {
  row_.scenario = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  rng_.seed(run_settings().seed ^ fnv1a(row_.scenario));
  started_ = std::chrono::steady_clock::now();
  compared_ = {{"Name", testing::field_kind::text},
               {"Ext__c", testing::field_kind::text},
               {"Text__c", testing::field_kind::text},
               {"Count__c", testing::field_kind::number},
               {"Amount__c", testing::field_kind::number},
               {"Flag__c", testing::field_kind::boolean},
               {"Day__c", testing::field_kind::date},
               {"IsDeleted", testing::field_kind::boolean},
               {"SystemModstamp", testing::field_kind::datetime},
               {"CreatedDate", testing::field_kind::datetime}};
  std::cout << "chaos: scenario " << row_.scenario << ", seed " << run_settings().seed << std::endl;
}

void scenario::TearDown() {
  row_.passed = !HasFailure() && !IsSkipped();
  row_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (row_.records == 0)
    row_.records = expected_;
  if (HasFailure()) {
    // The first failure's gist goes to the report.
    const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
    for (int i = 0; i < result->total_part_count(); ++i) {
      const auto& part = result->GetTestPartResult(i);
      if (!part.failed())
        continue;
      std::string gist = part.summary();
      for (char& c : gist)
        if (c == '\n' || c == '|')
          c = ' ';
      if (gist.size() > 220)
        gist = gist.substr(0, 220) + "...";
      row_.note += (row_.note.empty() ? "" : "; ") + std::string("first failure: ") + gist;
      break;
    }
  }
  if (deadlocks_ > 0)
    row_.note += (row_.note.empty() ? "" : "; ") + std::to_string(deadlocks_) +
                 " workload statements retried after a deadlock with the engine";
  if (node_) {
    past_logs_.push_back(node_->output());
    node_->kill();
    node_.reset();
  }
  for (auto& p : peers_) {
    past_logs_.push_back(p->output());
    p->process().signal(SIGCONT); // a frozen peer must be able to die
    p->kill();
  }
  peers_.clear();
  if (!IsSkipped()) {
    std::lock_guard<std::mutex> lock(rows_mutex);
    rows().push_back(row_);
  }
  if (HasFailure()) {
    const auto& s = run_settings();
    ::mkdir(s.log_dir.c_str(), 0755);
    for (std::size_t i = 0; i < past_logs_.size(); ++i) {
      auto path = s.log_dir + "/" + row_.scenario + "-node-" + std::to_string(i + 1) + ".log";
      std::ofstream(path) << past_logs_[i];
    }
    if (emu_) {
      std::ofstream(s.log_dir + "/" + row_.scenario + "-sfemu.log") << emu_->process().output();
    }
    dump_tables(s.log_dir + "/" + row_.scenario);
    std::cout << "chaos: " << row_.scenario << " FAILED with seed " << s.seed << "; node logs in " << s.log_dir
              << "; replay: " << replay_command(row_.scenario) << std::endl;
  }
  if (!org_path_.empty())
    std::remove(org_path_.c_str());
  if (!config_path_.empty())
    std::remove(config_path_.c_str());
  if (!cluster_secret_path_.empty())
    std::remove(cluster_secret_path_.c_str());
}

void scenario::dump_tables(const std::string& prefix) {
  // What the database held when the scenario failed, for the post-mortem (the scratch database is dropped).
  const std::pair<const char*, const char*> tables[] = {
    {"chaos__c", "SELECT id, sfid, name, ext__c, _hc_lastop, _hc_err, systemmodstamp FROM salesforce.chaos__c "
                 "ORDER BY id"},
    {"trigger_log", "SELECT id, txid, state, action, record_id, sfid, sf_message, created_at, processed_at, \"values\" "
                    "FROM salesforce._trigger_log ORDER BY id"},
    {"trigger_log_archive", "SELECT id, txid, state, action, record_id, sfid, sf_message, created_at, processed_at, "
                            "\"values\" FROM salesforce._trigger_log_archive ORDER BY id"},
    {"mappings", "SELECT object_name, state, state_description, high_water_mark FROM syncforce.mappings"}};
  try {
    pqxx::connection c(db_url_);
    pqxx::nontransaction tx(c);
    for (const auto& [name, query] : tables) {
      std::ofstream out(prefix + "-" + name + ".tsv");
      auto r = tx.exec(query);
      for (pqxx::row::size_type i = 0; i < r.columns(); ++i)
        out << (i ? "\t" : "") << r.column_name(i);
      out << "\n";
      for (const auto& row : r) {
        for (pqxx::row::size_type i = 0; i < row.size(); ++i)
          out << (i ? "\t" : "") << (row[i].is_null() ? "NULL" : row[i].c_str());
        out << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cout << "chaos: could not dump the tables: " << e.what() << std::endl;
  }
  if (!sf_)
    return;
  control("DELETE", "faults");
  std::ofstream out(prefix + "-salesforce.tsv");
  out << "Id\tName\tExt__c\tIsDeleted\tSystemModstamp\n";
  auto cursor = sf_->query_all("SELECT Id, Name, Ext__c, IsDeleted, SystemModstamp FROM Chaos__c ORDER BY Id");
  while (!cursor.done()) {
    auto page = cursor.next_page();
    if (!page)
      break;
    for (const auto& r : page->records)
      out << r.text("Id") << "\t" << r.text("Name") << "\t" << r.text("Ext__c") << "\t" << r.text("IsDeleted") << "\t"
          << r.text("SystemModstamp") << "\n";
  }
}

int scenario::uniform(int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng_);
}

double scenario::uniform_real(double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng_);
}

bool scenario::chance(double p) {
  return uniform_real(0, 1) < p;
}

void scenario::chaos_pause(std::chrono::milliseconds lo, std::chrono::milliseconds hi) {
  std::this_thread::sleep_for(
    std::chrono::milliseconds(uniform(static_cast<int>(lo.count()), static_cast<int>(hi.count()))));
}

std::string scenario::salt() {
  return std::to_string(rng_() % 1000000007);
}

void scenario::start_world(bool private_postgres) {
  auto url = testing::test_database_url();
  if (!private_postgres && !url)
    GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test and scripts/chaos start PostgreSQL)";
  if (private_postgres) {
    own_pg_ = std::make_unique<testing::pg_server>();
    pqxx::connection c(own_pg_->url());
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE chaos");
    db_url_ = own_pg_->url("chaos");
  } else {
    scratch_ = std::make_unique<testing::scratch_database>(*url, "chaos");
    db_url_ = scratch_->url();
  }
  org_path_ = temp_file("org", org_file);
  emu_ = std::make_unique<testing::sfemu_process>(
    std::vector<std::string>{"--org", org_path_, "--user", "checker@sfemu.local:checker", "--api-limit", "100000000"});
  control("POST", "faults", {{"seed", rng_() % 1000000}});
  salesforce::client_config cfg;
  cfg.login_url = emu_->base_url();
  salesforce::password_credentials pw;
  pw.username = "checker@sfemu.local";
  pw.password = salesforce::secret("checker");
  cfg.creds = pw;
  sf_ = std::make_unique<salesforce::client>(cfg);
  json config{
    {"version", 1},
    {"schema", "salesforce"},
    {"salesforce",
     {{"login_url", emu_->base_url()}, {"username", "admin@sfemu.local"}, {"password_env", "SF_TEST_PASSWORD"}}},
    {"connection", {{"name", "chaos"}, {"api_version", api_version_}, {"features", json::object()}}},
    {"mappings", json::array({chaos_mapping()})}};
  for (const auto& object : extra_objects_) {
    json fields = json::object();
    for (const char* f : {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name"})
      fields[f] = json::object();
    config["mappings"].push_back(
      {{"object_name", object}, {"config", {{"access", "read_only"}, {"sf_polling_seconds", 120}, {"fields", fields}}}});
  }
  config_path_ = temp_file("config", config.dump(2));
  // Nodes of one cluster authenticate to each other (docs/cluster.md, "Authentication between nodes").
  cluster_secret_path_ = temp_file("cluster-secret", "chaos-cluster-secret-" + salt());
}

std::map<std::string, std::string> scenario::node_env() const {
  // sfemu is a login host over plain http on loopback: a development host the node must be told about.
  return {{"SF_TEST_PASSWORD", "sfemu"},
          {"SYNCFORCE_TEST_POLL_SECONDS", "1"},
          {"SYNCFORCE_ADMIN_TOKEN", admin_token},
          {"SYNCFORCE_INSECURE_LOGIN_HOSTS", "127.0.0.1,localhost"},
          {"SYNCFORCE_CLUSTER_SECRET_FILE", cluster_secret_path_}};
}

void scenario::start_node(const std::vector<std::string>& extra_args) {
  testing::node_options o;
  o.database_url = db_url_;
  o.node_name = "chaos-node";
  if (node_starts_ == 0)
    o.config_path = config_path_; // imported once; then the control schema is the truth (mapping:edit stays)
  o.args = extra_args;
  o.env = node_env();
  if (node_) {
    past_logs_.push_back(node_->output());
    node_.reset();
  }
  ++node_starts_;
  node_ = std::make_unique<testing::node_process>(o);
}

testing::node_process& scenario::start_peer(const std::string& name, const std::vector<std::string>& extra_args) {
  testing::node_options o;
  o.database_url = db_url_;
  o.node_name = name;
  o.args = extra_args;
  o.env = node_env();
  peers_.push_back(std::make_unique<testing::node_process>(o));
  return *peers_.back();
}

void scenario::kill_node(const std::string& during) {
  ASSERT_TRUE(node_);
  node_->kill();
  std::cout << "chaos: " << row_.scenario << ": kill -9 of the node during " << during << std::endl;
}

std::optional<std::string> scenario::scalar(const std::string& sql) {
  try {
    pqxx::connection c(db_url_);
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    if (r.empty() || r[0][0].is_null())
      return std::nullopt;
    return r[0][0].as<std::string>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

long scenario::count(const std::string& sql) {
  auto v = scalar(sql);
  return v ? std::stol(*v) : -1;
}

std::optional<std::string> scenario::mapping(const std::string& column) {
  // The harness's own connection: a scenario may add a second one (hc2) mapping Chaos__c too.
  return scalar("SELECT m." + column + " FROM syncforce.mappings m JOIN syncforce.connections c ON c.id = "
                "m.connection_id WHERE m.object_name = 'Chaos__c' AND c.name = 'chaos'");
}

bool scenario::wait_state(const std::string& state, std::chrono::milliseconds timeout) {
  return testing::wait_until([&] { return mapping("state") == state || node_gave_up(); }, timeout, 50ms) &&
         mapping("state") == state;
}

bool scenario::node_gave_up(std::string* why) {
  if (!node_)
    return false;
  if (!node_->process().running()) {
    if (why) {
      // 128 + N: killed by signal N (11: a crash; 6: an abort, see the log's last lines).
      auto code = node_->process().wait_exit(std::chrono::milliseconds(0));
      *why = "the node exited" + (code ? " with status " + std::to_string(*code) : std::string{});
    }
    return true;
  }
  auto out = node_->output();
  for (const char* marker : {"giving up", "failed too often"}) {
    auto i = out.find(marker);
    if (i == std::string::npos)
      continue;
    if (why) {
      auto start = out.rfind('\n', i);
      auto end = out.find('\n', i);
      *why = out.substr(start == std::string::npos ? 0 : start + 1, end == std::string::npos ? end : end - start - 1);
    }
    return true;
  }
  return false;
}

std::string scenario::node_log() const {
  std::string all;
  for (std::size_t i = 0; i < past_logs_.size(); ++i)
    all += "---- node run " + std::to_string(i + 1) + " (last lines)\n" + last_lines(past_logs_[i], 40) + "\n";
  if (node_)
    all += "---- current node (last lines)\n" + last_lines(node_->output(), 60);
  for (const auto& p : peers_)
    all += "---- peer node (last lines)\n" + last_lines(p->output(), 40);
  return all;
}

int occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto i = text.find(needle); i != std::string::npos; i = text.find(needle, i + 1))
    ++n;
  return n;
}

int scenario::logged(const std::string& needle) const {
  int n = 0;
  for (const auto& out : past_logs_)
    n += occurrences(out, needle);
  if (node_)
    n += occurrences(node_->output(), needle);
  for (const auto& p : peers_)
    n += occurrences(p->output(), needle);
  return n;
}

json scenario::control(const std::string& method, const std::string& path, const json& body) {
  try {
    return emu_->control(method, path, body);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
    return nullptr;
  }
}

// ---- workload ----------------------------------------------------------------------------

void scenario::sf_create(int n) {
  json records = json::array();
  std::vector<int> numbers;
  for (int i = 0; i < n; ++i) {
    int k = ++sf_made_;
    numbers.push_back(k);
    records.push_back({{"Name", "S-" + std::to_string(k)},
                       {"Ext__c", "S-" + std::to_string(k)},
                       {"Text__c", "s" + salt()},
                       {"Count__c", uniform(0, 100000)},
                       {"Amount__c", uniform(0, 10000000) / 100.0},
                       {"Flag__c", chance(0.5)},
                       {"Day__c", "202" + std::to_string(uniform(0, 5)) + "-0" + std::to_string(uniform(1, 9)) + "-1" +
                                    std::to_string(uniform(0, 9))},
                       {"Note__c", "note " + std::to_string(k)}});
  }
  // In chunks: one control call per 5,000 records.
  for (std::size_t from = 0; from < records.size(); from += 5000) {
    json chunk(records.begin() + static_cast<long>(from),
               records.begin() + static_cast<long>(std::min(records.size(), from + 5000)));
    auto r = control("POST", "records/Chaos__c", chunk);
    ASSERT_TRUE(r.is_object() && r.contains("ids")) << r.dump();
    for (std::size_t i = 0; i < r["ids"].size(); ++i) {
      auto id = r["ids"][i].get<std::string>();
      // Odd-numbered records may be deleted in Salesforce, even ones updated in PostgreSQL: a record is
      // never deleted on one side while changed on the other (that would be a write error, not chaos).
      (numbers[from + i] % 2 == 1 ? sf_deletable_ : sf_ids_).push_back(id);
    }
  }
  expected_ += n;
}

void scenario::sf_update(int n) {
  std::vector<std::string> all = sf_ids_;
  all.insert(all.end(), sf_deletable_.begin(), sf_deletable_.end());
  std::shuffle(all.begin(), all.end(), rng_);
  all.resize(std::min<std::size_t>(all.size(), static_cast<std::size_t>(n)));
  for (std::size_t from = 0; from < all.size(); from += 200) {
    std::vector<json> records;
    for (std::size_t i = from; i < std::min(all.size(), from + 200); ++i)
      records.push_back({{"Id", all[i]},
                         {"Text__c", "sf" + salt()},
                         {"Count__c", uniform(0, 100000)},
                         {"Amount__c", uniform(0, 10000000) / 100.0}});
    auto r = sf_->update("Chaos__c", records);
    ASSERT_TRUE(r) << r.error().describe();
    for (const auto& s : *r)
      EXPECT_TRUE(s.success) << "update in Salesforce refused: " << (s.errors.empty() ? "" : s.errors[0].message);
  }
}

void scenario::sf_delete(int n) {
  std::shuffle(sf_deletable_.begin(), sf_deletable_.end(), rng_);
  std::size_t take = std::min<std::size_t>(sf_deletable_.size(), static_cast<std::size_t>(n));
  std::vector<std::string> ids(sf_deletable_.end() - static_cast<long>(take), sf_deletable_.end());
  sf_deletable_.resize(sf_deletable_.size() - take);
  for (std::size_t from = 0; from < ids.size(); from += 200) {
    std::vector<std::string> chunk(ids.begin() + static_cast<long>(from),
                                   ids.begin() + static_cast<long>(std::min(ids.size(), from + 200)));
    auto r = sf_->remove(chunk);
    ASSERT_TRUE(r) << r.error().describe();
    for (const auto& s : *r) {
      EXPECT_TRUE(s.success) << "delete in Salesforce refused";
      if (s.success)
        --expected_;
    }
  }
}

long scenario::sql(const std::string& statement) {
  // An application's statement touching many rows can deadlock with the engine's own updates of
  // those rows (sfids, _hc_lastop); PostgreSQL aborts one of them and, like an application, the
  // workload runs its statement again.
  for (int attempt = 1;; ++attempt) {
    try {
      pqxx::connection c(db_url_);
      pqxx::work tx(c);
      auto r = tx.exec(statement);
      tx.commit();
      return static_cast<long>(r.affected_rows());
    } catch (const pqxx::deadlock_detected&) {
      if (attempt == 5)
        throw;
      ++deadlocks_;
    }
  }
}

void scenario::pg_insert(int n, bool with_ext) {
  auto r = std::to_string(++round_);
  auto s = salt();
  auto name = "'P" + r + (with_ext ? "x" : "n") + "-' || i";
  long inserted = sql("INSERT INTO salesforce.chaos__c (name, ext__c, text__c, count__c, amount__c, flag__c, day__c) "
                      "SELECT " +
                      name + ", " + (with_ext ? name : std::string("NULL")) + ", 'p' || left(md5('" + s +
                      "' || i), 12), (hashtext('" + s + "' || i) & 65535), ((hashtext(i || '" + s +
                      "') & 1048575) / 100.0)::numeric(12,2), "
                      "(hashtext('f" +
                      s + "' || i) & 1) = 1, date '2020-01-01' + (hashtext('d" + s +
                      "' || i) & 2047) FROM generate_series(1, " + std::to_string(n) + ") i");
  EXPECT_EQ(inserted, n);
  expected_ += inserted;
}

void scenario::pg_update(int n) {
  auto s = salt();
  sql("UPDATE salesforce.chaos__c SET text__c = 'u" + s +
      "', count__c = coalesce(count__c, 0) + 1, "
      "amount__c = ((hashtext(id || '" +
      s +
      "') & 1048575) / 100.0)::numeric(12,2) WHERE id IN (SELECT id FROM "
      "salesforce.chaos__c WHERE sfid IS NOT NULL AND (name LIKE 'P%' OR name ~ '^S-[0-9]*[02468]$') "
      "ORDER BY md5(id || '" +
      s + "') LIMIT " + std::to_string(n) + ")");
}

void scenario::pg_delete(int n) {
  auto s = salt();
  expected_ -= sql("DELETE FROM salesforce.chaos__c WHERE id IN (SELECT id FROM salesforce.chaos__c WHERE sfid IS "
                   "NOT NULL AND name LIKE 'P%' ORDER BY md5(id || '" +
                   s + "') LIMIT " + std::to_string(n) + ")");
}

// ---- end state ----------------------------------------------------------------------------

sync_comparison scenario::compare() {
  try {
    return testing::compare_sync(*sf_, db_url_, "Chaos__c", "salesforce", "chaos__c", compared_, "Name");
  } catch (const std::exception& e) {
    sync_comparison c;
    c.value_mismatches = -1;
    c.examples.push_back(std::string("comparison failed: ") + e.what());
    return c;
  }
}

bool scenario::converge(std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  bool duplicated = false;
  bool done = testing::wait_until(
    [&] {
      if (node_gave_up())
        return true;
      auto state = mapping("state");
      if (!state || (*state != "DATA_SYNCED" && *state != "POLLING_SF_CHANGES" && *state != "POLLING_SF_BULK"))
        return false;
      if (count("SELECT count(*) FROM salesforce._trigger_log WHERE state IN ('NEW', 'PENDING')") != 0 ||
          count("SELECT count(*) FROM salesforce.chaos__c WHERE _hc_lastop = 'PENDING'") != 0)
        return false;
      auto c = compare();
      // A record written twice to Salesforce stays there: nothing will remove it, stop waiting.
      duplicated = c.sf_duplicate_keys > 0;
      return c.equal() || duplicated;
    },
    timeout, 250ms);
  std::string why;
  if (node_gave_up(&why)) {
    ADD_FAILURE() << "the node gave up: " << why << "\n" << node_log();
    return false;
  }
  if (duplicated) {
    ADD_FAILURE() << "Salesforce holds duplicate records once everything was written: " << compare().describe();
    return false;
  }
  if (done)
    row_.converge_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return done;
}

void scenario::expect_converged(long expected, std::chrono::milliseconds timeout) {
  row_.records = expected;
  bool done = converge(timeout);
  auto c = compare();
  EXPECT_TRUE(done || c.sf_duplicate_keys > 0 || node_gave_up())
    << "did not converge within " << timeout.count() / 1000 << " s: " << c.describe() << "\nmapping state "
    << mapping("state").value_or("?") << " (" << mapping("state_description").value_or("") << "), trigger log waiting "
    << count("SELECT count(*) FROM salesforce._trigger_log WHERE state IN ('NEW', 'PENDING')") << "\n"
    << node_log();
  EXPECT_TRUE(c.equal()) << c.describe();
  EXPECT_EQ(c.sf_records, expected) << "records in Salesforce";
  EXPECT_EQ(c.pg_rows, expected) << "rows in PostgreSQL";
  EXPECT_EQ(c.sf_duplicate_keys, 0) << "duplicates in Salesforce";
  EXPECT_EQ(c.pg_duplicate_sfids, 0);
  EXPECT_EQ(count("SELECT count(*) - count(DISTINCT sfid) FROM salesforce.chaos__c"), 0) << "sfids unique";
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.chaos__c WHERE _hc_lastop = 'FAILED'"), 0)
    << scalar("SELECT _hc_err FROM salesforce.chaos__c WHERE _hc_lastop = 'FAILED' LIMIT 1").value_or("");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log_archive WHERE state = 'FAILED'"), 0)
    << scalar("SELECT sf_message FROM salesforce._trigger_log_archive WHERE state = 'FAILED' LIMIT 1").value_or("");
  // Two archived deletes of one Salesforce record: a row deleted in PostgreSQL came back (a poll
  // re-inserted it while its delete still waited in the trigger log) and the application deleted it again.
  EXPECT_EQ(count("SELECT count(*) FROM (SELECT sfid FROM salesforce._trigger_log_archive WHERE action = 'DELETE' "
                  "AND state = 'SUCCESS' AND sfid IS NOT NULL GROUP BY sfid HAVING count(*) > 1) twice"),
            0)
    << "rows deleted in PostgreSQL came back before their delete reached Salesforce, e.g. "
    << scalar("SELECT string_agg(record_id::text, ', ' ORDER BY id) FROM salesforce._trigger_log_archive WHERE "
              "action = 'DELETE' AND sfid = (SELECT sfid FROM salesforce._trigger_log_archive WHERE action = "
              "'DELETE' AND state = 'SUCCESS' GROUP BY sfid HAVING count(*) > 1 LIMIT 1)")
         .value_or("")
    << " (row ids of one record's deletes)";
  auto state = mapping("state").value_or("?");
  EXPECT_TRUE(state == "DATA_SYNCED" || state == "POLLING_SF_CHANGES" || state == "POLLING_SF_BULK") << state;
}

} // namespace syncforce::chaos
