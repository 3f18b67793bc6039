#pragma once
// The fixture of the Salesforce -> PostgreSQL end-to-end tests: the real
// syncforced binary with a configuration file, the real sfemu, a scratch database.

#include "salesforce/client.hpp"
#include "store/control_repo.hpp"
#include "store/control_schema.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sfemu.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <csignal>
#include <iostream>
#include <cstdio>
#include <algorithm>
#include <fstream>
#include <unistd.h>
#include <map>
#include <optional>

namespace syncforce::testing {

using namespace std::chrono_literals;
using nlohmann::json;

inline const char* org_file = R"({
  "objects": [
    {"name": "Every__c", "label": "Every", "key_prefix": "a0E",
     "fields": [
       {"name": "Ext_Id__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Text__c", "type": "string", "length": 100},
       {"name": "Long__c", "type": "textarea", "length": 32000},
       {"name": "Pick__c", "type": "picklist", "picklist": ["New", "Done"]},
       {"name": "Multi__c", "type": "multipicklist", "picklist": ["A", "B", "C"]},
       {"name": "Flag__c", "type": "boolean"},
       {"name": "Count__c", "type": "int"},
       {"name": "Ratio__c", "type": "double", "precision": 18, "scale": 4},
       {"name": "Price__c", "type": "currency", "precision": 18, "scale": 2},
       {"name": "Share__c", "type": "percent", "precision": 5, "scale": 2},
       {"name": "Day__c", "type": "date"},
       {"name": "At__c", "type": "datetime"},
       {"name": "Clock__c", "type": "time"},
       {"name": "Phone__c", "type": "phone"},
       {"name": "Site__c", "type": "url"},
       {"name": "Mail__c", "type": "email"},
       {"name": "Account__c", "type": "reference", "reference_to": "Account"}
     ]}
  ]
})";

inline std::string write_temp(const std::string& name, const std::string& text) {
  auto path = std::string{"/tmp/"} + name + "." + std::to_string(::getpid()) + "." + std::to_string(std::rand());
  std::ofstream(path) << text;
  return path;
}

inline salesforce::client_config sf_config(const sfemu_process& emu) {
  salesforce::client_config cfg;
  cfg.login_url = emu.base_url();
  salesforce::password_credentials pw;
  pw.username = "admin@sfemu.local";
  pw.password = salesforce::secret("sfemu");
  cfg.creds = pw;
  return cfg;
}

/// POST /__sfemu/records/{object}: returns the new ids.
inline std::vector<std::string> load_records(salesforce::client& sf, const sfemu_process& emu, const std::string& object,
                                      const json& records) {
  salesforce::raw_call c;
  c.method = "POST";
  c.path = emu.base_url() + "/__sfemu/records/" + object;
  c.body = records.dump();
  auto r = sf.call(c);
  if (!r)
    ADD_FAILURE() << r.error().describe();
  std::vector<std::string> ids;
  if (r) {
    auto body = json::parse(r->body, nullptr, false);
    if (!body.is_object() || !body.contains("ids"))
      ADD_FAILURE() << "unexpected answer " << r->status << ": " << r->body.substr(0, 300);
    else
      for (const auto& id : body["ids"])
        ids.push_back(id.get<std::string>());
  }
  return ids;
}

/// One scalar from the database (nullopt for NULL or no row).
inline std::optional<std::string> scalar(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    if (r.empty() || r[0][0].is_null())
      return std::nullopt;
    return r[0][0].as<std::string>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

inline long count_of(const std::string& url, const std::string& sql) {
  auto v = scalar(url, sql);
  return v ? std::stol(*v) : -1;
}

struct sync_read : ::testing::Test {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test starts PostgreSQL)";
    db = std::make_unique<scratch_database>(*url, "sync_read");
    org_path = write_temp("sync_read_org", org_file);
    emu = std::make_unique<sfemu_process>(std::vector<std::string>{"--org", org_path});
    sf = std::make_unique<salesforce::client>(sf_config(*emu));
  }

  void TearDown() override {
    node.reset();
    if (!org_path.empty())
      std::remove(org_path.c_str());
    if (!config_path.empty())
      std::remove(config_path.c_str());
  }

  void write_config(const json& mappings, const std::string& api_version = "60.0",
                    const json& features = json::object()) {
    json cfg{{"version", 1},
             {"schema", "salesforce"},
             {"salesforce",
              {{"login_url", emu->base_url()}, {"username", "admin@sfemu.local"}, {"password_env", "SF_TEST_PASSWORD"}}},
             {"connection", {{"name", "it"}, {"api_version", api_version}, {"features", features}}},
             {"mappings", mappings}};
    config_path = write_temp("sync_read_config", cfg.dump(2));
  }

  void start_node(long bulk_threshold = 10000, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{bin_path("syncforced"), "--database-url", db->url(), "--grpc-address",
                                  "127.0.0.1:0", "--node-name", "it-node", "--config", config_path,
                                  "--bulk-threshold", std::to_string(bulk_threshold)};
    args.insert(args.end(), extra.begin(), extra.end());
    auto env = node_env;
    env["SF_TEST_PASSWORD"] = "sfemu";
    env["SYNCFORCE_TEST_POLL_SECONDS"] = "1";
    node = child_process::start(args, {env.begin(), env.end()});
  }

  /// A call to sfemu's control API (`/__sfemu/...`); fails the test on an error.
  json control(const std::string& method, const std::string& path, const json& body = nullptr) {
    salesforce::raw_call c;
    c.method = method;
    c.path = emu->base_url() + "/__sfemu/" + path;
    if (!body.is_null()) {
      c.body = body.dump();
      c.content_type = "application/json";
    }
    auto r = sf->call(c);
    if (!r) {
      ADD_FAILURE() << method << " " << path << ": " << r.error().describe();
      return nullptr;
    }
    return json::parse(r->body, nullptr, false);
  }

  void stop_node() {
    ASSERT_TRUE(node->signal(SIGTERM));
    auto code = node->wait_exit(20s);
    ASSERT_TRUE(code.has_value()) << node->output();
    EXPECT_EQ(*code, 0) << node->output();
  }

  std::optional<std::string> mapping_field(const std::string& object, const std::string& expr) {
    return scalar(db->url(), "SELECT " + expr + " FROM syncforce.mappings WHERE object_name = '" + object + "'");
  }

  bool wait_state(const std::string& object, const std::string& state, std::chrono::milliseconds timeout = 30s) {
    return wait_until([&] { return mapping_field(object, "state") == state; }, timeout, 50ms);
  }

  std::unique_ptr<scratch_database> db;
  std::unique_ptr<sfemu_process> emu;
  std::unique_ptr<salesforce::client> sf;
  std::unique_ptr<child_process> node;
  /// More environment for the node (e.g. SYNCFORCE_ADMIN_TOKEN).
  std::map<std::string, std::string> node_env;
  std::string org_path;
  std::string config_path;
};

inline json every_mapping() {
  json fields = json::object();
  for (const char* f : {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name", "Ext_Id__c", "Text__c", "Long__c",
                        "Pick__c", "Multi__c", "Flag__c", "Count__c", "Ratio__c", "Price__c", "Share__c", "Day__c",
                        "At__c", "Clock__c", "Phone__c", "Site__c", "Mail__c", "Account__c"})
    fields[f] = json::object();
  return json::array({{{"object_name", "Every__c"},
                       {"config",
                        {{"access", "read_only"},
                         {"sf_polling_seconds", 120},
                         {"upsert_field", "Ext_Id__c"},
                         {"fields", fields},
                         {"indexes", {{"Ext_Id__c", {{"unique", true}}}}}}}}});
}

} // namespace syncforce::testing
