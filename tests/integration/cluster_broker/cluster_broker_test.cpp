// Two syncforced nodes share one Salesforce user with the legacy limit of 10
// query cursors. Node A runs the user's broker; node B is told (TEST-ONLY
// --test-broker-owner, until leases decide it) that the broker is on node A
// and asks it over the Cluster gRPC service, authenticated by the cluster
// secret. sfemu is set to allow far more than 10 open cursors, so what it
// counts is what the nodes really hold: sampled every 100 ms while 16 loads
// overlap (2 s latency on every query page), it never goes past 10. Two
// independent pools (what a node without the broker does) would reach 16.

#include "syncforce/v1/cluster.grpc.pb.h"
#include "tests/support/node.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sfemu.hpp"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

using namespace syncforce::testing;
using nlohmann::json;

namespace {

const std::vector<std::string> objects{"Account", "Contact", "Lead", "Opportunity"};
const std::string secret = "0123456789abcdef0123456789abcdef";

std::string write_temp(const std::string& name, const std::string& text) {
  auto path = "/tmp/" + name + "." + std::to_string(::getpid()) + "." + std::to_string(std::rand());
  std::ofstream(path) << text;
  return path;
}

long count_of(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? -1 : r[0][0].as<long>();
  } catch (const std::exception&) {
    return -1;
  }
}

json connection(const std::string& schema, const std::string& login_url) {
  json mappings = json::array();
  for (const auto& object : objects) {
    json fields = {{"Id", json::object()}, {"IsDeleted", json::object()}, {"SystemModstamp", json::object()}};
    fields[object == "Contact" || object == "Lead" ? "LastName" : "Name"] = json::object();
    mappings.push_back({{"object_name", object}, {"config", {{"access", "read_only"}, {"fields", fields}}}});
  }
  return {{"version", 1},
          {"schema", schema},
          {"salesforce",
           {{"login_url", login_url}, {"username", "admin@sfemu.local"}, {"password_env", "SF_TEST_PASSWORD"}}},
          {"connection", {{"name", schema}, {"api_version", "55.0"}}},
          {"mappings", mappings}};
}

struct cluster_broker : ::testing::Test {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test starts PostgreSQL)";
    db_a = std::make_unique<scratch_database>(*url, "broker_a");
    db_b = std::make_unique<scratch_database>(*url, "broker_b");
    emu = std::make_unique<sfemu_process>(std::vector<std::string>{"--threads", "48"});
    secret_path = write_temp("cluster_secret", secret + "\n");
  }

  void TearDown() override {
    a.reset();
    b.reset();
    for (const auto& p : {secret_path, config_a, config_b})
      if (!p.empty())
        std::remove(p.c_str());
  }

  std::unique_ptr<syncforce::v1::Cluster::Stub> cluster_stub(const std::string& server) {
    return syncforce::v1::Cluster::NewStub(grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
  }

  grpc::Status broker_state(const std::string& server, const std::optional<std::string>& presented,
                            syncforce::v1::BrokerState& out) {
    auto stub = cluster_stub(server);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    if (presented)
      ctx.AddMetadata("x-syncforce-cluster-secret", *presented);
    syncforce::v1::GetBrokerStateRequest req;
    req.set_user_key(user_key());
    return stub->GetBrokerState(&ctx, req, &out);
  }

  std::string user_key() const { return emu->base_url() + "|admin@sfemu.local"; }

  node_options options(const std::string& name, const std::string& db, const std::string& config) {
    node_options o;
    o.database_url = db;
    o.node_name = name;
    o.config_path = config;
    o.args = {"--sync-workers", "10", "--cluster-secret-file", secret_path};
    o.env = {{"SF_TEST_PASSWORD", "sfemu"}, {"SYNCFORCE_TEST_POLL_SECONDS", "1"}};
    return o;
  }

  long synced(const std::string& url) {
    return count_of(url, "SELECT count(*) FROM syncforce.mappings WHERE state IN ('DATA_SYNCED', "
                         "'POLLING_SF_CHANGES')");
  }

  std::unique_ptr<scratch_database> db_a, db_b;
  std::unique_ptr<sfemu_process> emu;
  std::unique_ptr<node_process> a, b;
  std::string secret_path, config_a, config_b;
};

} // namespace

TEST_F(cluster_broker, mappings_on_two_nodes_never_hold_more_cursors_than_the_users_limit) {
  emu->control("POST", "settings", {{"legacy_cursor_limit", 100}, {"concurrent_limit", 500}});
  for (const auto& object : objects) {
    json records = json::array();
    for (int i = 0; i < 2100; ++i) // two pages: every load holds a cursor
      records.push_back(object == "Contact" || object == "Lead"
                          ? json{{"LastName", "L" + std::to_string(i)}, {"Company", "C"}}
                          : json{{"Name", object + std::to_string(i)}});
    if (object == "Contact")
      for (auto& r : records)
        r.erase("Company");
    auto r = emu->control("POST", "records/" + object, records);
    ASSERT_EQ(r["ids"].size(), 2100u) << object;
  }
  // Every query page is slow, so loads of both nodes overlap.
  emu->control("POST", "faults", {{"route", "/query"}, {"latency_ms", 2000}, {"action", "none"}});

  config_a = write_temp("broker_a", json{{"connections", {connection("hc1", emu->base_url()),
                                                          connection("hc2", emu->base_url())}}}
                                      .dump());
  config_b = write_temp("broker_b", json{{"connections", {connection("hc3", emu->base_url()),
                                                          connection("hc4", emu->base_url())}}}
                                      .dump());
  a = std::make_unique<node_process>(options("node-a", db_a->url(), config_a));
  auto ob = options("node-b", db_b->url(), config_b);
  ob.args.push_back("--test-broker-owner");
  ob.args.push_back(user_key() + "=" + a->server());
  b = std::make_unique<node_process>(ob);

  // Sample sfemu's count of the user's open cursors every 100 ms until all 16 loads are done.
  long most = 0;
  long samples = 0;
  bool done = wait_until(
    [&] {
      auto c = emu->control("GET", "cursors?user=admin@sfemu.local");
      most = std::max<long>(most, c["user_open"].get<long>());
      ++samples;
      return synced(db_a->url()) == 8 && synced(db_b->url()) == 8;
    },
    180s, 100ms);
  ASSERT_TRUE(done) << "node A:\n" << a->output() << "\nnode B:\n" << b->output();
  std::cout << "most cursors open at once: " << most << " (" << samples << " samples)\n";
  EXPECT_LE(most, 10) << "the user's legacy limit held across both nodes";
  EXPECT_GT(most, 0) << "the samples saw the loads' cursors at all";

  EXPECT_NE(b->output().find("Integration user's broker runs on another node"), std::string::npos) << b->output();
  for (auto* n : {a.get(), b.get()})
    EXPECT_EQ(n->output().find("INVALID_QUERY_LOCATOR"), std::string::npos) << n->output();

  // The broker on node A counted node B's grants and never went past the limit.
  syncforce::v1::BrokerState state;
  auto status = broker_state(a->server(), secret, state);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(state.cursor_limit(), 10);
  EXPECT_LE(state.peak(), 10);
  auto by_node = state.grants_by_node();
  EXPECT_GE(by_node["node-b"], 8) << "each of node B's eight loads took its cursor from node A";
  EXPECT_GE(by_node["node-a"], 8) << "node A's own loads asked it in-process";
  std::cout << "broker peak: " << state.peak() << ", grants to node A: " << by_node["node-a"]
            << ", to node B: " << by_node["node-b"] << ", loads delayed: " << state.delayed() << "\n";

  for (const auto& schema : {"hc1", "hc2"})
    for (const auto& object : objects) {
      auto table = object;
      std::transform(table.begin(), table.end(), table.begin(), ::tolower);
      EXPECT_EQ(count_of(db_a->url(), std::string{"SELECT count(*) FROM "} + schema + "." + table), 2100);
    }
  for (const auto& schema : {"hc3", "hc4"})
    for (const auto& object : objects) {
      auto table = object;
      std::transform(table.begin(), table.end(), table.begin(), ::tolower);
      EXPECT_EQ(count_of(db_b->url(), std::string{"SELECT count(*) FROM "} + schema + "." + table), 2100);
    }

  // Node-to-node calls are authenticated: no secret, a wrong one, refused without a word of the right one.
  syncforce::v1::BrokerState ignored;
  auto none = broker_state(a->server(), std::nullopt, ignored);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto wrong = broker_state(a->server(), std::string{"fedcba9876543210fedcba9876543210"}, ignored);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_message().find(secret), std::string::npos);
  // Node B runs no broker for this user: it says so instead of answering for it.
  auto elsewhere = broker_state(b->server(), secret, ignored);
  EXPECT_EQ(elsewhere.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << elsewhere.error_message();

  for (auto* n : {b.get(), a.get()}) {
    auto code = n->terminate();
    ASSERT_TRUE(code.has_value()) << n->output();
    EXPECT_EQ(*code, 0) << n->output();
  }
}

TEST_F(cluster_broker, a_node_without_a_cluster_secret_refuses_cluster_calls) {
  node_options o;
  o.database_url = db_a->url();
  o.node_name = "lonely";
  a = std::make_unique<node_process>(o);
  syncforce::v1::BrokerState ignored;
  auto s = broker_state(a->server(), secret, ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("--cluster-secret-file"), std::string::npos) << s.error_message();
  EXPECT_NE(a->output().find("auth=refusing"), std::string::npos) << a->output();
  auto code = a->terminate();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}
