#include "sync/write_record.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace syncforce;

namespace {

row_outcome ok(std::string key, std::optional<std::string> sfid) {
  return row_outcome{std::move(key), std::move(sfid), true, std::nullopt};
}

row_outcome failed(std::string key, std::string err) {
  return row_outcome{std::move(key), std::nullopt, false, std::move(err)};
}

/// The row as recording each outcome in its own transaction leaves it:
/// sfid = COALESCE(new, old), _hc_lastop and _hc_err from the last.
struct row_state {
  std::optional<std::string> sfid;
  std::optional<bool> ok;
  std::optional<std::string> err;
  friend bool operator==(const row_state& a, const row_state& b) {
    return a.sfid == b.sfid && a.ok == b.ok && a.err == b.err;
  }
};

void apply(std::map<std::string, row_state>& rows, const row_outcome& o) {
  auto& r = rows[o.key];
  if (o.sfid)
    r.sfid = o.sfid;
  r.ok = o.ok;
  r.err = o.err;
}

} // namespace

TEST(fold_row_outcomes, distinct_keys_pass_through_in_order) {
  auto out = fold_row_outcomes({ok("1", "a1"), failed("2", "{}"), ok("3", std::nullopt)});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].key, "1");
  EXPECT_EQ(out[0].sfid, "a1");
  EXPECT_EQ(out[1].key, "2");
  EXPECT_FALSE(out[1].ok);
  EXPECT_EQ(out[1].err, "{}");
  EXPECT_EQ(out[2].key, "3");
  EXPECT_FALSE(out[2].sfid);
}

TEST(fold_row_outcomes, a_later_result_of_the_same_row_wins_but_keeps_the_sfid_it_does_not_carry) {
  // Ordered writes: the INSERT of row 7 created a1; its UPDATE in a later batch failed.
  auto out = fold_row_outcomes({ok("7", "a1"), ok("8", "a2"), failed("7", R"({"op":"UPDATE"})")});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].key, "7");
  EXPECT_EQ(out[0].sfid, "a1");
  EXPECT_FALSE(out[0].ok);
  EXPECT_EQ(out[0].err, R"({"op":"UPDATE"})");
  EXPECT_EQ(out[1].key, "8");
}

TEST(fold_row_outcomes, a_failure_fixed_by_a_later_batch_clears_the_error) {
  auto out = fold_row_outcomes({failed("5", "{}"), ok("5", "a5")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].ok);
  EXPECT_FALSE(out[0].err);
  EXPECT_EQ(out[0].sfid, "a5");
}

TEST(fold_row_outcomes, the_last_sfid_set_wins) {
  auto out = fold_row_outcomes({ok("5", "a5"), ok("5", std::nullopt), ok("5", "b5"), ok("5", std::nullopt)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].sfid, "b5");
}

TEST(fold_row_outcomes, equals_recording_one_by_one_for_random_sequences) {
  std::mt19937 rng(16);
  for (int round = 0; round < 500; ++round) {
    std::vector<row_outcome> seq;
    const int n = static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
      auto key = std::to_string(rng() % 6);
      std::optional<std::string> sfid;
      if (rng() % 2)
        sfid = "s" + std::to_string(rng() % 100);
      bool good = rng() % 3 != 0;
      seq.push_back(row_outcome{key, sfid, good, good ? std::nullopt : std::optional<std::string>{"e" + key}});
    }
    std::map<std::string, row_state> one_by_one, folded;
    for (const auto& o : seq)
      apply(one_by_one, o);
    auto out = fold_row_outcomes(seq);
    std::map<std::string, int> seen;
    for (const auto& o : out) {
      EXPECT_EQ(++seen[o.key], 1) << "key " << o.key << " twice";
      apply(folded, o);
    }
    EXPECT_EQ(one_by_one, folded) << "round " << round;
  }
}

TEST(record_grouping, records_when_enough_wait_or_nothing_is_in_flight) {
  record_grouping g{1000};
  EXPECT_FALSE(g.due(0, false));
  EXPECT_FALSE(g.due(0, true));
  EXPECT_TRUE(g.due(1, false)) << "nothing in flight: record what waits";
  EXPECT_FALSE(g.due(999, true)) << "a call on the wire: gather more";
  EXPECT_TRUE(g.due(1000, true));
  EXPECT_TRUE(g.due(1200, true));
}

TEST(record_grouping, a_limit_of_one_records_each_batch_as_it_is_answered) {
  record_grouping g{1};
  EXPECT_TRUE(g.due(200, true));
}
