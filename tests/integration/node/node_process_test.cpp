// The real syncforced binary against a real PostgreSQL of its own (so it can be
// stopped and started), probed over real gRPC.

#include "grpc/health/v1/health.grpc.pb.h"
#include "store/control_schema.hpp"
#include "syncforce/v1/node.grpc.pb.h"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <csignal>

using namespace syncforce::testing;
using grpc::health::v1::HealthCheckResponse;

namespace {

/// The status of a health service, or UNKNOWN when the call fails.
HealthCheckResponse::ServingStatus health_status(grpc::health::v1::Health::Stub& stub, const std::string& service) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  HealthCheckResponse resp;
  if (!stub.Check(&ctx, req, &resp).ok())
    return HealthCheckResponse::UNKNOWN;
  return resp.status();
}

struct node_fixture : ::testing::Test {
  void SetUp() override {
    if (!test_database_url())
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set: run the tests through scripts/test";
    pg = std::make_unique<pg_server>();
    grpc_port = free_port();
  }

  std::unique_ptr<child_process> start_node(const std::string& name, int port) {
    return child_process::start({bin_path("syncforced"), "--grpc-address", "127.0.0.1:" + std::to_string(port),
                                 "--node-name", name, "--shutdown-timeout", "5"},
                                {{"SYNCFORCE_DATABASE_URL", pg->url()}});
  }

  std::unique_ptr<grpc::health::v1::Health::Stub> health_stub(int port) {
    return grpc::health::v1::Health::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<pg_server> pg;
  int grpc_port = 0;
};

} // namespace

TEST_F(node_fixture, readiness_follows_the_database_and_sigterm_exits_cleanly) {
  auto node = start_node("itest-node", grpc_port);
  auto stub = health_stub(grpc_port);

  ASSERT_TRUE(wait_until([&] { return health_status(*stub, "readiness") == HealthCheckResponse::SERVING; }, 30s))
    << node->output();
  EXPECT_EQ(health_status(*stub, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(health_status(*stub, "no-such-service"), HealthCheckResponse::UNKNOWN); // NOT_FOUND

  // Node info over the node's own API.
  {
    auto node_stub = syncforce::v1::Node::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    syncforce::v1::NodeInfo info;
    ASSERT_TRUE(node_stub->GetNodeInfo(&ctx, {}, &info).ok());
    EXPECT_EQ(info.name(), "itest-node");
    EXPECT_TRUE(info.ready());
    EXPECT_GE(info.control_schema_version(), 1);
  }

  // The database goes away: readiness drops, liveness stays, the node keeps running.
  pg->stop();
  ASSERT_TRUE(wait_until([&] { return health_status(*stub, "readiness") == HealthCheckResponse::NOT_SERVING; }, 30s))
    << node->output();
  EXPECT_EQ(health_status(*stub, ""), HealthCheckResponse::SERVING);
  EXPECT_TRUE(node->running());
  EXPECT_TRUE(node->wait_for_output("state=DB_UNAVAILABLE", 10s));

  // It comes back: readiness returns by itself.
  pg->start();
  ASSERT_TRUE(wait_until([&] { return health_status(*stub, "readiness") == HealthCheckResponse::SERVING; }, 30s))
    << node->output();

  // SIGTERM: clean exit with status 0, and the logs say so in logfmt.
  ASSERT_TRUE(node->signal(SIGTERM));
  auto code = node->wait_exit(20s);
  ASSERT_TRUE(code.has_value()) << "syncforced did not exit after SIGTERM:\n" << node->output();
  EXPECT_EQ(*code, 0) << node->output();
  auto out = node->output();
  EXPECT_NE(out.find("event=\"Shutdown requested\" signal=SIGTERM object_type=node object_id=itest-node state=DRAINING level=info"),
            std::string::npos)
    << out;
  EXPECT_NE(out.find("event=\"Stopped\" drained=true"), std::string::npos) << out;
  EXPECT_NE(out.find("level=info"), std::string::npos);
}

TEST_F(node_fixture, two_nodes_starting_together_share_one_migrated_schema) {
  int port2 = free_port();
  auto a = start_node("node-a", grpc_port);
  auto b = start_node("node-b", port2);
  auto sa = health_stub(grpc_port);
  auto sb = health_stub(port2);
  ASSERT_TRUE(wait_until([&] { return health_status(*sa, "readiness") == HealthCheckResponse::SERVING; }, 30s))
    << a->output();
  ASSERT_TRUE(wait_until([&] { return health_status(*sb, "readiness") == HealthCheckResponse::SERVING; }, 30s))
    << b->output();
  {
    pqxx::connection c(pg->url());
    pqxx::read_transaction tx(c);
    auto applied = tx.exec1("SELECT count(*), count(DISTINCT version) FROM syncforce.schema_migrations");
    EXPECT_EQ(applied[0].as<std::size_t>(), syncforce::store::control_schema_migrations().size());
    EXPECT_EQ(applied[0].as<int>(), applied[1].as<int>()) << "a migration was applied twice";
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_namespace WHERE nspname = 'syncforce'")[0].as<int>(), 1);
  }
  a->signal(SIGTERM);
  b->signal(SIGTERM);
  EXPECT_EQ(a->wait_exit(20s).value_or(-1), 0) << a->output();
  EXPECT_EQ(b->wait_exit(20s).value_or(-1), 0) << b->output();
}

TEST_F(node_fixture, bad_settings_are_refused_with_a_clear_message) {
  auto node = child_process::start({bin_path("syncforced"), "--grpc-address", "nonsense", "--log-level", "loud"},
                                   {{"SYNCFORCE_DATABASE_URL", "postgresql://u:topsecret@localhost/db"}});
  auto code = node->wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  auto out = node->output();
  EXPECT_NE(out.find("--grpc-address (SYNCFORCE_GRPC_ADDRESS) 'nonsense'"), std::string::npos) << out;
  EXPECT_NE(out.find("--log-level"), std::string::npos) << out;
  EXPECT_EQ(out.find("topsecret"), std::string::npos) << out;
}

TEST_F(node_fixture, a_misspelt_copy_format_is_refused_at_start) {
  // SYNCFORCE_COPY_FORMAT picks the loads' COPY format (store/copy_binary.hpp):
  // a typo must stop the node, not quietly load in another format.
  auto node = child_process::start({bin_path("syncforced"), "--grpc-address", "127.0.0.1:" + std::to_string(grpc_port),
                                    "--node-name", "n1", "--shutdown-timeout", "5"},
                                   {{"SYNCFORCE_DATABASE_URL", pg->url()}, {"SYNCFORCE_COPY_FORMAT", "binery"}});
  auto code = node->wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << node->output();
  EXPECT_EQ(*code, 2);
  EXPECT_NE(node->output().find("SYNCFORCE_COPY_FORMAT must be text or binary, not 'binery'"), std::string::npos)
    << node->output();
}
