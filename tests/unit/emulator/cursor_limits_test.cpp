#include "emulator/server.hpp"
#include "emulator/sessions.hpp"

#include <gtest/gtest.h>

using namespace sfemu;

TEST(cursors, legacy_mode_releases_the_oldest_beyond_ten) {
  cursor_store store;
  cursor_store::limits l;
  std::vector<std::string> opened;
  for (int i = 0; i < 11; ++i)
    opened.push_back(store.open("u1", query_run{}, true, 1000 + i, l));
  EXPECT_EQ(store.open_count("u1", 2000, l), 10u);
  EXPECT_FALSE(store.find(opened[0], "u1", 2000, l)); // the oldest was released
  for (int i = 1; i < 11; ++i)
    EXPECT_TRUE(store.find(opened[static_cast<std::size_t>(i)], "u1", 2000, l)) << i;
  // another user's cursors are not affected, and cursors are per user
  auto other = store.open("u2", query_run{}, true, 2000, l);
  EXPECT_FALSE(store.find(other, "u1", 2000, l));
  EXPECT_TRUE(store.find(other, "u2", 2000, l));
  EXPECT_EQ(store.open_count("u1", 2000, l), 10u);
}

TEST(cursors, same_millisecond_eviction_follows_open_order) {
  cursor_store store;
  cursor_store::limits l;
  std::vector<std::string> opened;
  for (int i = 0; i < 12; ++i)
    opened.push_back(store.open("u", query_run{}, true, 5000, l));
  EXPECT_FALSE(store.find(opened[0], "u", 5000, l));
  EXPECT_FALSE(store.find(opened[1], "u", 5000, l));
  EXPECT_TRUE(store.find(opened[2], "u", 5000, l));
}

TEST(cursors, modern_mode_has_no_count_limit) {
  cursor_store store;
  cursor_store::limits l;
  std::vector<std::string> opened;
  for (int i = 0; i < 30; ++i)
    opened.push_back(store.open("u", query_run{}, false, 1000, l));
  for (auto& id : opened)
    EXPECT_TRUE(store.find(id, "u", 1000, l));
}

TEST(cursors, expiry_follows_the_injected_clock) {
  cursor_store store;
  cursor_store::limits l;
  auto legacy = store.open("u", query_run{}, true, 0, l);
  auto modern = store.open("u", query_run{}, false, 0, l);
  // using a legacy cursor keeps it alive
  EXPECT_TRUE(store.find(legacy, "u", l.legacy_idle_ms - 1, l));
  EXPECT_TRUE(store.find(legacy, "u", 2 * l.legacy_idle_ms - 2, l));
  EXPECT_FALSE(store.find(legacy, "u", 3 * l.legacy_idle_ms, l));
  EXPECT_TRUE(store.find(modern, "u", l.modern_ttl_ms - 1, l));
  EXPECT_FALSE(store.find(modern, "u", l.modern_ttl_ms, l));
}

TEST(cursors, locators_parse) {
  auto loc = parse_locator("01g5g0000000001AAA-2000");
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->first, "01g5g0000000001AAA");
  EXPECT_EQ(loc->second, 2000u);
  EXPECT_FALSE(parse_locator("nodash"));
  EXPECT_FALSE(parse_locator("abc-"));
  EXPECT_FALSE(parse_locator("-12"));
  EXPECT_FALSE(parse_locator("abc-12x"));
  EXPECT_FALSE(parse_locator("a/b-12"));
  EXPECT_FALSE(parse_locator("abc-99999999999999999999"));
}

TEST(sessions, expire_with_the_clock_and_revoke) {
  session_store store;
  user_info u{"005000000000001AAA", "a@b.c", "A", "a@b.c"};
  auto s = store.open(u, 1000, 5000, "00D000000000001AAA");
  EXPECT_EQ(s.token.substr(0, 16), "00D000000000001!");
  EXPECT_TRUE(store.find(s.token, 5999));
  EXPECT_FALSE(store.find(s.token, 6000));
  auto t = store.open(u, 1000, 5000, "00D000000000001AAA");
  EXPECT_NE(s.token, t.token);
  EXPECT_TRUE(store.revoke(t.token));
  EXPECT_FALSE(store.find(t.token, 1000));
  auto v = store.open(u, 1000, 5000, "00D000000000001AAA");
  store.expire_all();
  EXPECT_FALSE(store.find(v.token, 1000));
}

TEST(limits, daily_api_budget_and_counters) {
  api_usage usage;
  const std::int64_t day = 86400000;
  EXPECT_TRUE(usage.count("query", "a", 2, 10 * day));
  EXPECT_TRUE(usage.count("composite/sobjects", "b", 2, 10 * day + 1));
  EXPECT_FALSE(usage.count("query", "a", 2, 10 * day + 2)); // exhausted
  EXPECT_EQ(usage.used(10 * day + 3), 2);
  auto j = usage.to_json();
  EXPECT_EQ(j["total"], 2);
  EXPECT_EQ(j["by_route"]["query"], 1);
  EXPECT_EQ(j["by_user"]["b"], 1);
  EXPECT_TRUE(usage.count("query", "a", 2, 11 * day)); // a new day
  usage.reset();
  EXPECT_EQ(usage.to_json()["total"], 0);
}

TEST(limits, settings_validation) {
  org_settings s;
  EXPECT_FALSE(s.apply({{"legacy_cursors", "always"}, {"api_limit", 10}}));
  EXPECT_EQ(s.legacy_cursors, cursor_mode::always);
  EXPECT_EQ(s.api_limit, 10);
  EXPECT_TRUE(s.apply({{"legacy_cursors", "sometimes"}}));
  EXPECT_TRUE(s.apply({{"nope", 1}}));
  EXPECT_TRUE(s.apply({{"api_limit", "many"}}));
  EXPECT_TRUE(s.apply({{"session_seconds", 0}}));
  EXPECT_EQ(s.api_limit, 10); // failed applies change nothing
}

TEST(faults, rules_match_count_and_rate) {
  fault_injector f;
  std::vector<int> ids;
  EXPECT_FALSE(f.add({{"route", "/query"}, {"status", 503}, {"count", 2}}, ids));
  EXPECT_EQ(f.decide("GET", "/services/data/v60.0/sobjects").act, fault_rule::action::none);
  EXPECT_EQ(f.decide("GET", "/services/data/v60.0/query").status, 503);
  EXPECT_EQ(f.decide("GET", "/services/data/v60.0/query").act, fault_rule::action::error);
  EXPECT_EQ(f.decide("GET", "/services/data/v60.0/query").act, fault_rule::action::none);
  EXPECT_TRUE(f.add({{"route", "("}}, ids));
  EXPECT_TRUE(f.add({{"action", "explode"}}, ids));
  EXPECT_TRUE(f.add({{"rate", 2}}, ids));
  f.clear();
  EXPECT_FALSE(f.add({{"route", "token"}, {"action", "unauthorized"}, {"rate", 0.5}}, ids));
  f.seed(7);
  int hits = 0;
  for (int i = 0; i < 1000; ++i)
    hits += f.decide("POST", "/services/oauth2/token").act == fault_rule::action::unauthorized;
  EXPECT_GT(hits, 350);
  EXPECT_LT(hits, 650);
}

