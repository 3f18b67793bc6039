#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "store/copy_loader.hpp"
#include "store/hc_schema.hpp"
#include "sync/hstore.hpp"
#include "sync/type_mapping.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"

namespace syncforce::hc_test {

/// A scratch database with a `salesforce` connection schema and helpers.
class hc_fixture : public ::testing::Test {
protected:
  void SetUp() override {
    auto url = syncforce::testing::test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set";
    db_ = std::make_unique<syncforce::testing::scratch_database>(*url, "hc_schema");
    user_ = std::make_unique<pqxx::connection>(db_->url());
    engine_ = store::open_engine_connection(db_->url());
    pqxx::work tx{*engine_};
    store::ensure_connection_schema(tx, schema_);
    tx.commit();
  }

  /// A Contact mapping with a few columns of several types.
  hc_table_spec contact_spec(mapping_access access = mapping_access::read_write) const {
    mapping_config m;
    m.object_name = "Contact";
    m.access = access;
    m.fields = {"Id", "Name", "Email", "SystemModstamp", "IsDeleted", "CreatedDate", "External_Id__c",
                "NumberOfEmployees__c"};
    m.upsert_field = "External_Id__c";
    m.indexes = {{"Id", true}, {"SystemModstamp", false}, {"External_Id__c", true}};
    std::vector<sf_field_info> describe{{"Id", sf_field_type::id, 18},
                                        {"Name", sf_field_type::string, 121},
                                        {"Email", sf_field_type::email, 80},
                                        {"SystemModstamp", sf_field_type::datetime, 0},
                                        {"IsDeleted", sf_field_type::boolean, 0},
                                        {"CreatedDate", sf_field_type::datetime, 0},
                                        {"External_Id__c", sf_field_type::string, 40},
                                        {"NumberOfEmployees__c", sf_field_type::int_, 0}};
    auto r = make_table_spec(schema_, m, describe);
    EXPECT_TRUE(r.ok());
    return *r.spec;
  }

  store::mapping_ddl_result apply(const hc_table_spec& spec) {
    pqxx::work tx{*engine_};
    auto r = store::ensure_mapping_table(tx, spec);
    tx.commit();
    return r;
  }

  /// Runs `sql` as a user (xmlbinary base64) and commits.
  void user_exec(const std::string& sql) {
    pqxx::work tx{*user_};
    tx.exec(sql);
    tx.commit();
  }

  void engine_exec(const std::string& sql) {
    pqxx::work tx{*engine_};
    tx.exec(sql);
    tx.commit();
  }

  pqxx::result query(const std::string& sql) {
    pqxx::nontransaction tx{*user_};
    return tx.exec(sql);
  }

  long count(const std::string& sql) { return query(sql)[0][0].as<long>(); }

  static hstore parse(const pqxx::field& f) {
    auto r = parse_hstore(f.is_null() ? "" : f.c_str());
    EXPECT_TRUE(r.ok()) << r.error.message << " in " << f.c_str();
    return r.value.value_or(hstore{});
  }

  std::string schema_ = "salesforce";
  std::unique_ptr<syncforce::testing::scratch_database> db_;
  std::unique_ptr<pqxx::connection> user_;
  std::unique_ptr<pqxx::connection> engine_;
};

} // namespace syncforce::hc_test
