// Control schema migrations against the real test PostgreSQL.

#include "store/control_schema.hpp"
#include "tests/support/postgres.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <thread>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

/// A fingerprint of everything in schema `syncforce`: tables, columns, types,
/// constraints and indexes, so "changes nothing" can be checked exactly.
std::string schema_fingerprint(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  std::string out;
  for (auto row : tx.exec("SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, '') "
                          "FROM information_schema.columns WHERE table_schema = 'syncforce' "
                          "ORDER BY table_name, ordinal_position")) {
    for (auto field : row)
      out += field.c_str() + std::string("|");
    out += "\n";
  }
  for (auto row : tx.exec("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = "
                          "'syncforce'::regnamespace ORDER BY conname"))
    out += row[0].as<std::string>() + " " + row[1].as<std::string>() + "\n";
  for (auto row : tx.exec("SELECT indexdef FROM pg_indexes WHERE schemaname = 'syncforce' ORDER BY indexname"))
    out += row[0].as<std::string>() + "\n";
  return out;
}

struct migrations : ::testing::Test {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set: run the tests through scripts/test";
    db = std::make_unique<scratch_database>(*url, "migrations");
  }
  std::unique_ptr<scratch_database> db;
};

} // namespace

TEST_F(migrations, creates_the_control_schema_at_the_latest_version) {
  pqxx::connection c(db->url());
  EXPECT_EQ(store::control_schema_version(c), 0);
  auto report = store::migrate_control_schema(c);
  int latest = store::control_schema_migrations().back().version;
  EXPECT_EQ(report.from_version, 0);
  EXPECT_EQ(report.to_version, latest);
  EXPECT_EQ(report.applied.size(), store::control_schema_migrations().size());
  EXPECT_EQ(store::control_schema_version(c), latest);

  pqxx::read_transaction tx(c);
  for (auto table : {"nodes", "connections", "mappings", "leases", "audit_log", "schema_migrations"})
    EXPECT_TRUE(tx.exec1("SELECT to_regclass('syncforce." + std::string(table) + "') IS NOT NULL")[0].as<bool>())
      << table;
}

TEST_F(migrations, applying_twice_changes_nothing) {
  pqxx::connection c(db->url());
  store::migrate_control_schema(c);
  auto before = schema_fingerprint(c);
  ASSERT_FALSE(before.empty());
  auto second = store::migrate_control_schema(c);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.from_version, second.to_version);
  EXPECT_EQ(schema_fingerprint(c), before);
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM syncforce.schema_migrations")[0].as<int>(),
            static_cast<int>(store::control_schema_migrations().size()));
}

TEST_F(migrations, concurrent_runs_end_with_one_correct_schema) {
  // Reference: a schema migrated alone.
  scratch_database reference(*test_database_url(), "migrations_ref");
  std::string expected;
  {
    pqxx::connection c(reference.url());
    store::migrate_control_schema(c);
    expected = schema_fingerprint(c);
  }
  constexpr int runners = 6;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(runners);
  std::vector<std::size_t> applied(runners);
  for (int i = 0; i < runners; ++i) {
    threads.emplace_back([&, i] {
      try {
        pqxx::connection c(db->url());
        applied[i] = store::migrate_control_schema(c).applied.size();
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  std::size_t total_applied = 0;
  for (int i = 0; i < runners; ++i) {
    EXPECT_TRUE(errors[i].empty()) << "runner " << i << ": " << errors[i];
    total_applied += applied[i];
  }
  EXPECT_EQ(total_applied, store::control_schema_migrations().size()) << "each migration applied exactly once";
  pqxx::connection c(db->url());
  EXPECT_EQ(schema_fingerprint(c), expected);
}

TEST_F(migrations, a_failing_migration_leaves_nothing_behind) {
  pqxx::connection c(db->url());
  {
    // Something in the way of migration 1: a table it will try to create.
    pqxx::work tx(c);
    tx.exec("CREATE SCHEMA syncforce");
    tx.exec("CREATE TABLE syncforce.nodes (x int)");
    tx.commit();
  }
  EXPECT_THROW(store::migrate_control_schema(c), pqxx::sql_error);
  pqxx::read_transaction tx(c);
  EXPECT_FALSE(tx.exec1("SELECT to_regclass('syncforce.schema_migrations') IS NOT NULL")[0].as<bool>())
    << "the failed run must roll back entirely";
  EXPECT_FALSE(tx.exec1("SELECT to_regclass('syncforce.connections') IS NOT NULL")[0].as<bool>());
}
