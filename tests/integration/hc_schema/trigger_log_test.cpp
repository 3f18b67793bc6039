#include "hc_fixture.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "store/trigger_log.hpp"

using namespace syncforce;
using namespace syncforce::hc_test;
using namespace std::chrono_literals;

TEST_F(hc_fixture, claim_marks_pending_in_id_order_and_finish_archives) {
  apply(contact_spec());
  engine_exec("INSERT INTO salesforce.contact (sfid, name) VALUES ('003A', 'A')");
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('B'), ('C')");
  user_exec("UPDATE salesforce.contact SET name = 'A2' WHERE sfid = '003A'");
  user_exec("DELETE FROM salesforce.contact WHERE name = 'C'"); // IGNORE: no sfid

  pqxx::work tx{*engine_};
  auto claimed = store::claim_new_entries(tx, schema_, 10);
  ASSERT_EQ(claimed.size(), 3u); // the IGNORE entry is not claimed
  EXPECT_LT(claimed[0].id, claimed[1].id);
  EXPECT_LT(claimed[1].id, claimed[2].id);
  EXPECT_EQ(claimed[0].action, "INSERT");
  EXPECT_EQ(claimed[0].state, "PENDING");
  EXPECT_EQ(claimed[2].action, "UPDATE");
  EXPECT_EQ(claimed[2].sfid, "003A");
  ASSERT_TRUE(claimed[0].values.has_value());
  EXPECT_EQ(parse_hstore(*claimed[0].values).value->get("name"), "B");
  EXPECT_TRUE(store::claim_new_entries(tx, schema_, 10).empty());

  std::vector<store::log_result> results{{claimed[0].id, store::log_outcome::success, 201, std::nullopt},
                                  {claimed[1].id, store::log_outcome::failed, 400, std::string{"REQUIRED_FIELD_MISSING: LastName"}},
                                  {claimed[2].id, store::log_outcome::merged, std::nullopt, std::nullopt}};
  EXPECT_EQ(store::finish_entries(tx, schema_, results), 3u);
  EXPECT_EQ(store::archive_unsyncable(tx, schema_), 1u);
  tx.commit();

  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), 0);
  auto archived = query("SELECT id, state, sf_result, sf_message, processed_at IS NOT NULL, processed_tx IS NOT NULL, "
                        "action, \"values\" IS NOT NULL FROM salesforce._trigger_log_archive ORDER BY id");
  ASSERT_EQ(archived.size(), 4u);
  EXPECT_EQ(archived[0][1].as<std::string>(), "SUCCESS");
  EXPECT_EQ(archived[0][2].as<int>(), 201);
  EXPECT_TRUE(archived[0][4].as<bool>());
  EXPECT_TRUE(archived[0][5].as<bool>());
  EXPECT_TRUE(archived[0][7].as<bool>());
  EXPECT_EQ(archived[1][1].as<std::string>(), "FAILED");
  EXPECT_EQ(archived[1][3].as<std::string>(), "REQUIRED_FIELD_MISSING: LastName");
  EXPECT_EQ(archived[2][1].as<std::string>(), "MERGED");
  EXPECT_TRUE(archived[2][2].is_null());
  EXPECT_EQ(archived[3][1].as<std::string>(), "IGNORE");
  EXPECT_EQ(archived[3][6].as<std::string>(), "DELETE");
  EXPECT_EQ(archived[3][4].as<bool>(), false);
}

TEST_F(hc_fixture, claims_from_two_connections_never_overlap) {
  apply(contact_spec());
  constexpr int total = 1500;
  user_exec("INSERT INTO salesforce.contact (name) SELECT 'n' || g FROM generate_series(1, " + std::to_string(total) + ") g");
  ASSERT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW'"), total);

  std::mutex mutex;
  std::vector<std::int64_t> all_ids;
  std::atomic<int> errors{0};
  auto writer = [&](int batch) {
    try {
      auto conn = store::open_engine_connection(db_->url());
      for (;;) {
        pqxx::work tx{*conn};
        auto claimed = store::claim_new_entries(tx, schema_, static_cast<std::size_t>(batch));
        if (claimed.empty())
          break;
        std::vector<store::log_result> results;
        for (const auto& e : claimed)
          results.push_back(store::log_result{e.id, store::log_outcome::success, 200, std::nullopt});
        store::finish_entries(tx, schema_, results);
        tx.commit();
        std::lock_guard<std::mutex> guard{mutex};
        for (const auto& e : claimed)
          all_ids.push_back(e.id);
      }
    } catch (const std::exception& e) {
      ++errors;
      ADD_FAILURE() << e.what();
    }
  };
  std::thread a(writer, 7);
  std::thread b(writer, 11);
  a.join();
  b.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(all_ids.size(), static_cast<std::size_t>(total));
  std::set<std::int64_t> unique(all_ids.begin(), all_ids.end());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(total)); // nothing handed out twice
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), 0);
  EXPECT_EQ(count("SELECT count(DISTINCT id) FROM salesforce._trigger_log_archive WHERE state = 'SUCCESS'"), total);
}

TEST_F(hc_fixture, claim_blocks_nobody_while_another_writer_holds_rows) {
  apply(contact_spec());
  user_exec("INSERT INTO salesforce.contact (name) SELECT 'n' || g FROM generate_series(1, 10) g");
  auto other = store::open_engine_connection(db_->url());
  pqxx::work first{*engine_};
  auto mine = store::claim_new_entries(first, schema_, 4);
  ASSERT_EQ(mine.size(), 4u);
  {
    // While the first claim is uncommitted, a second writer skips those rows.
    pqxx::work second{*other};
    auto theirs = store::claim_new_entries(second, schema_, 100);
    ASSERT_EQ(theirs.size(), 6u);
    EXPECT_GT(theirs.front().id, mine.back().id);
    second.abort();
  }
  first.abort(); // rolled back: the rows are NEW again
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW'"), 10);
  pqxx::work tx{*engine_};
  EXPECT_EQ(store::claim_new_entries(tx, schema_, 100, std::string{"account"}).size(), 0u);
  EXPECT_EQ(store::claim_new_entries(tx, schema_, 3, std::string{"contact"}).size(), 3u);
  EXPECT_EQ(store::release_pending(tx, schema_), 3u);
  tx.commit();
}

TEST_F(hc_fixture, requeue_and_retention_purge) {
  apply(contact_spec());
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('A'), ('B')");
  {
    pqxx::work tx{*engine_};
    auto claimed = store::claim_new_entries(tx, schema_, 10);
    ASSERT_EQ(claimed.size(), 2u);
    store::finish_entries(tx, schema_, {{claimed[0].id, store::log_outcome::failed, 400, std::string{"bad"}},
                                 {claimed[1].id, store::log_outcome::success, 201, std::nullopt}});
    tx.commit();
  }
  // An operator asks for a retry of the failed entry.
  user_exec("UPDATE salesforce._trigger_log_archive SET state = 'REQUEUE' WHERE state = 'FAILED'");
  auto archived_values = query("SELECT \"values\", record_id FROM salesforce._trigger_log_archive WHERE state = 'REQUEUE'");
  {
    pqxx::work tx{*engine_};
    EXPECT_EQ(store::requeue_archived(tx, schema_), 1u);
    EXPECT_EQ(store::requeue_archived(tx, schema_), 0u);
    tx.commit();
  }
  auto back = query("SELECT state, action, \"values\", record_id FROM salesforce._trigger_log");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0][0].as<std::string>(), "NEW");
  EXPECT_EQ(back[0][1].as<std::string>(), "INSERT");
  EXPECT_EQ(back[0][2].as<std::string>(), archived_values[0][0].as<std::string>());
  EXPECT_EQ(back[0][3].as<long>(), archived_values[0][1].as<long>());
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log_archive WHERE state = 'REQUEUED'"), 1);

  // Retention: entries older than the window go, newer ones stay.
  user_exec("UPDATE salesforce._trigger_log_archive SET created_at = now() - interval '40 days' WHERE state = 'SUCCESS'");
  {
    pqxx::work tx{*engine_};
    EXPECT_EQ(store::purge_archive(tx, schema_, std::chrono::hours(24 * 31)), 1u);
    tx.commit();
  }
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log_archive"), 1);
  pqxx::work tx{*engine_};
  auto states = store::count_by_state(tx, schema_);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].first, "NEW");
  EXPECT_EQ(states[0].second, 1u);
  EXPECT_EQ(store::trigger_log_channel("salesforce"), "salesforce.hc_trigger_log");
}
