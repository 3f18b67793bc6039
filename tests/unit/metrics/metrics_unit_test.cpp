#include "metrics/metrics.hpp"
#include "metrics/process_gauges.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <optional>
#include <sstream>

namespace syncforce::metrics {
namespace {

std::optional<double> sample(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + " ", 0) == 0)
      return std::stod(line.substr(key.size() + 1));
  return std::nullopt;
}

// One test: install() is process-wide and happens once.
TEST(metrics, calls_are_no_ops_until_installed_then_move_their_series) {
  // Before: nothing to report to, nothing breaks.
  rows_loaded("s", "Account", 5);
  lease_moved(lease_kind::mapping);
  api_usage("u@x", 1, 10);

  auto registry = std::make_shared<prometheus::Registry>();
  install(registry);
  install(std::make_shared<prometheus::Registry>()); // a second install is ignored
  auto text = [&] { return prometheus::TextSerializer{}.Serialize(registry->Collect()); };

  // The cluster's counters exist at 0 from the start, every kind.
  for (const char* k : {"mapping", "writer", "user"}) {
    EXPECT_EQ(sample(text(), std::string{"syncforce_lease_moves_total{kind=\""} + k + "\"}"), 0);
    EXPECT_EQ(sample(text(), std::string{"syncforce_lease_fencing_refusals_total{kind=\""} + k + "\"}"), 0);
  }
  lease_moved(lease_kind::writer);
  lease_moved(lease_kind::writer);
  fencing_refused(lease_kind::user);
  EXPECT_EQ(sample(text(), "syncforce_lease_moves_total{kind=\"writer\"}"), 2);
  EXPECT_EQ(sample(text(), "syncforce_lease_moves_total{kind=\"mapping\"}"), 0);
  EXPECT_EQ(sample(text(), "syncforce_lease_fencing_refusals_total{kind=\"user\"}"), 1);

  // The call made before install counted nowhere.
  EXPECT_EQ(sample(text(), "syncforce_rows_loaded_total{object=\"Account\",schema=\"s\"}"), std::nullopt);
  rows_loaded("s", "Account", 2000);
  rows_loaded("s", "Account", 17);
  rows_loaded("s", "Contact", 0); // an empty page makes no series
  EXPECT_EQ(sample(text(), "syncforce_rows_loaded_total{object=\"Account\",schema=\"s\"}"), 2017);
  EXPECT_EQ(text().find("object=\"Contact\""), std::string::npos);
  rows_polled("s", "Account", 3);
  EXPECT_EQ(sample(text(), "syncforce_rows_polled_total{object=\"Account\",schema=\"s\"}"), 3);
  rows_written("s", "Account", "UPDATE", 199);
  write_errors("s", "Account", "UPDATE", 1);
  EXPECT_EQ(sample(text(), "syncforce_rows_written_total{object=\"Account\",operation=\"UPDATE\",schema=\"s\"}"), 199);
  EXPECT_EQ(sample(text(), "syncforce_write_errors_total{object=\"Account\",operation=\"UPDATE\",schema=\"s\"}"), 1);

  load_finished("s", "Account", 42.0);
  EXPECT_EQ(sample(text(), "syncforce_load_duration_seconds_count{object=\"Account\",schema=\"s\"}"), 1);
  EXPECT_EQ(sample(text(), "syncforce_load_duration_seconds_sum{object=\"Account\",schema=\"s\"}"), 42);
  EXPECT_EQ(sample(text(), "syncforce_load_duration_seconds_bucket{object=\"Account\",schema=\"s\",le=\"30\"}"), 0);
  EXPECT_EQ(sample(text(), "syncforce_load_duration_seconds_bucket{object=\"Account\",schema=\"s\",le=\"60\"}"), 1);
  poll_finished("s", "Account", 0.3);
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto last = sample(text(), "syncforce_last_poll_success_timestamp_seconds{object=\"Account\",schema=\"s\"}");
  ASSERT_TRUE(last.has_value());
  EXPECT_NEAR(*last, now, 5);

  api_usage("u@x", 14000, 15000);
  EXPECT_EQ(sample(text(), "syncforce_api_calls_used{user=\"u@x\"}"), 14000);
  EXPECT_EQ(sample(text(), "syncforce_api_calls_limit{user=\"u@x\"}"), 15000);
  EXPECT_EQ(sample(text(), "syncforce_api_calls_remaining{user=\"u@x\"}"), 1000);
  api_usage("u@x", 15200, 15000); // over the limit (Salesforce allows a little): none left, never negative
  EXPECT_EQ(sample(text(), "syncforce_api_calls_remaining{user=\"u@x\"}"), 0);
  api_usage("u@x", 5, 0); // no limit known: the last snapshot stays
  EXPECT_EQ(sample(text(), "syncforce_api_calls_used{user=\"u@x\"}"), 15200);

  cursors("u@x", 10, 3);
  cursor_wait("u@x");
  cursor_wait("u@x");
  EXPECT_EQ(sample(text(), "syncforce_query_cursors_held{user=\"u@x\"}"), 10);
  EXPECT_EQ(sample(text(), "syncforce_query_cursors_waiting{user=\"u@x\"}"), 3);
  EXPECT_EQ(sample(text(), "syncforce_query_cursor_waits_total{user=\"u@x\"}"), 2);
}

TEST(process_gauges, read_this_process_from_proc) {
  auto text = prometheus::TextSerializer{}.Serialize(process_gauges{}.Collect());
  EXPECT_GT(sample(text, "process_resident_memory_bytes").value_or(0), 1e6) << text;
  EXPECT_GE(sample(text, "process_virtual_memory_bytes").value_or(0),
            sample(text, "process_resident_memory_bytes").value_or(1));
  EXPECT_GE(sample(text, "process_cpu_seconds_total").value_or(-1), 0);
  EXPECT_GE(sample(text, "process_open_fds").value_or(0), 3); // stdin, stdout, stderr
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto start = sample(text, "process_start_time_seconds");
  ASSERT_TRUE(start.has_value());
  EXPECT_LE(*start, now + 2);
  EXPECT_GT(*start, now - 600); // started by this test run
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
}

} // namespace
} // namespace syncforce::metrics
