// The Cluster service and its gRPC client (the transport of the broker
// proxies) in one process on loopback: a real actor system with a broker, a
// real gRPC server, the real client; with the cluster secret and with mTLS
// (certificates made by the openssl tool for the test; skipped without it).

#include "actors/atoms.hpp"
#include "actors/integration_user.hpp"
#include "actors/remote_broker.hpp"
#include "services/cluster_client.hpp"
#include "services/cluster_service.hpp"
#include "tests/support/process.hpp"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

const std::string user_key = "https://login.example.com|integration@example.com";
const std::string secret = "0123456789abcdef0123456789abcdef";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A CA and one certificate it signed for 127.0.0.1 (server and client use).
struct test_pki {
  bool make(const std::string& dir) {
    auto run = [&](const std::string& cmd) { return std::system(("cd " + dir + " && " + cmd + " >/dev/null 2>&1").c_str()) == 0; };
    std::ofstream(dir + "/ext.cnf") << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n";
    bool ok = run("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=test-ca") &&
              run("openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj /CN=node") &&
              run("openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out node.crt -days 1 "
                  "-extfile ext.cnf") &&
              run("openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt -days 1 "
                  "-subj /CN=rogue -addext subjectAltName=IP:127.0.0.1");
    if (!ok)
      return false;
    ca = slurp(dir + "/ca.crt");
    cert = slurp(dir + "/node.crt");
    key = slurp(dir + "/node.key");
    rogue_cert = slurp(dir + "/rogue.crt");
    rogue_key = slurp(dir + "/rogue.key");
    return true;
  }
  std::string ca, cert, key, rogue_cert, rogue_key;
};

struct cluster_service_fixture : ::testing::Test {
  cluster_service_fixture() : sys(cfg) {
    actors::integration_user_config u;
    u.username = "integration@example.com";
    u.cursor_limit = 1;
    broker = sys.spawn(actors::integration_user, u);
    registry = std::make_shared<actors::broker_registry>();
    registry->add(user_key, broker);
  }

  ~cluster_service_fixture() override {
    if (server)
      server->Shutdown(std::chrono::system_clock::now());
    caf::anon_send_exit(broker, caf::exit_reason::user_shutdown);
  }

  /// Serves the Cluster service: plain TCP, plus an mTLS listener when `sec` has certificates.
  void serve(const services::cluster_security& sec) {
    service = std::make_unique<services::cluster_service>(sys, registry, sec);
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &plain_port);
    if (sec.tls())
      b.AddListeningPort("127.0.0.1:0", services::cluster_server_credentials(sec), &tls_port);
    b.RegisterService(service.get());
    server = b.BuildAndStart();
    ASSERT_TRUE(server);
  }

  actors::broker_answer acquire(services::grpc_broker_transport& t, const std::string& address,
                                const std::string& holder, int64_t max_wait_ms = 2000) {
    std::promise<actors::broker_answer> p;
    t.acquire(address, user_key, "node-b", holder, 30000, max_wait_ms, [&](actors::broker_answer a) { p.set_value(a); });
    auto f = p.get_future();
    if (f.wait_for(30s) != std::future_status::ready) {
      ADD_FAILURE() << "no answer";
      return {};
    }
    return f.get();
  }

  actors::broker_answer renew(services::grpc_broker_transport& t, const std::string& address,
                              const std::vector<std::string>& ids) {
    std::promise<actors::broker_answer> p;
    t.renew(address, user_key, "node-b", ids, std::vector<std::string>(ids.size(), "node-b/m"), 30000,
            [&](actors::broker_answer a) { p.set_value(a); });
    return p.get_future().get();
  }

  int held() {
    int out = -1;
    caf::scoped_actor self{sys};
    self->request(broker, 5s, actors::status_atom::value)
      .receive([&](actors::broker_status& s) { out = s.held; }, [](caf::error&) {});
    return out;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  actors::integration_user_actor broker;
  std::shared_ptr<actors::broker_registry> registry;
  std::unique_ptr<services::cluster_service> service;
  std::unique_ptr<grpc::Server> server;
  int plain_port = 0;
  int tls_port = 0;
};

} // namespace

TEST_F(cluster_service_fixture, grants_waits_renewals_and_releases_cross_grpc_with_the_secret) {
  services::cluster_security sec;
  sec.secret = secret;
  serve(sec);
  auto address = "127.0.0.1:" + std::to_string(plain_port);
  services::grpc_broker_transport client(sec);

  auto first = acquire(client, address, "node-b/m1");
  ASSERT_TRUE(first.reached) << first.error;
  EXPECT_TRUE(first.granted);
  EXPECT_EQ(first.expires_in_ms, 30000);
  // The only cursor is held: the next one waits its bounded time, then answers retry.
  auto second = acquire(client, address, "node-b/m2", 300);
  ASSERT_TRUE(second.reached) << second.error;
  EXPECT_FALSE(second.granted);
  EXPECT_TRUE(second.retry);

  auto renewed = renew(client, address, {first.grant_id});
  ASSERT_TRUE(renewed.reached) << renewed.error;
  EXPECT_EQ(renewed.valid_grant_ids, std::vector<std::string>{first.grant_id});

  client.release(address, user_key, "node-b", first.grant_id);
  ASSERT_TRUE(wait_until([&] { return held() == 0; }, 10s));
  auto third = acquire(client, address, "node-b/m2");
  EXPECT_TRUE(third.granted);

  // Wrong secrets are refused, and the broker of a user this node does not run is not answered for.
  services::cluster_security wrong;
  wrong.secret = "fedcba9876543210fedcba9876543210";
  services::grpc_broker_transport intruder(wrong);
  auto refused = acquire(intruder, address, "x/m");
  EXPECT_FALSE(refused.reached);
  EXPECT_NE(refused.error.find("not this cluster's"), std::string::npos) << refused.error;
  EXPECT_EQ(refused.error.find(secret), std::string::npos);
  std::promise<actors::broker_answer> p;
  client.acquire(address, "https://login.example.com|other@example.com", "node-b", "node-b/m9", 30000, 1000,
                 [&](actors::broker_answer a) { p.set_value(a); });
  auto other = p.get_future().get();
  EXPECT_FALSE(other.reached);
  EXPECT_NE(other.error.find("does not run the broker"), std::string::npos) << other.error;
}

TEST_F(cluster_service_fixture, with_mtls_only_peers_with_a_certificate_of_the_cluster_ca_are_served) {
  auto dir = std::filesystem::temp_directory_path() / ("cluster_pki." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  test_pki pki;
  if (!pki.make(dir.string())) {
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "the openssl tool cannot make test certificates here";
  }
  std::filesystem::remove_all(dir);
  services::cluster_security sec;
  sec.secret = secret;
  sec.tls_ca = pki.ca;
  sec.tls_cert = pki.cert;
  sec.tls_key = pki.key;
  serve(sec);
  ASSERT_NE(tls_port, 0);

  services::grpc_broker_transport node(sec);
  auto ok = acquire(node, "127.0.0.1:" + std::to_string(tls_port), "node-b/m1");
  ASSERT_TRUE(ok.reached) << ok.error;
  EXPECT_TRUE(ok.granted);

  // The right secret over plain TCP: refused, mTLS is required.
  services::cluster_security plain;
  plain.secret = secret;
  services::grpc_broker_transport no_tls(plain);
  auto refused = acquire(no_tls, "127.0.0.1:" + std::to_string(plain_port), "node-b/m2");
  EXPECT_FALSE(refused.reached);
  EXPECT_NE(refused.error.find("need mTLS"), std::string::npos) << refused.error;

  // A certificate of another CA: the handshake fails.
  services::cluster_security rogue = sec;
  rogue.tls_cert = pki.rogue_cert;
  rogue.tls_key = pki.rogue_key;
  services::grpc_broker_transport stranger(rogue);
  auto shut_out = acquire(stranger, "127.0.0.1:" + std::to_string(tls_port), "node-b/m3");
  EXPECT_FALSE(shut_out.reached);
  EXPECT_EQ(held(), 1) << "only the first grant";
}
