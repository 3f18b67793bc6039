#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <mutex>

namespace syncforce::metrics {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

/// Polls take seconds, loads of large objects hours: one bucket list covers both.
Histogram::BucketBoundaries duration_buckets() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200};
}

/// Every instrument of the process. Families are thread-safe (prometheus-cpp
/// locks inside Add), so workers and actors call them from any thread.
struct instruments {
  explicit instruments(prometheus::Registry& r)
    : rows_loaded(prometheus::BuildCounter()
                    .Name("syncforce_rows_loaded_total")
                    .Help("Rows of initial loads and reloads committed to PostgreSQL")
                    .Register(r)),
      rows_polled(prometheus::BuildCounter()
                    .Name("syncforce_rows_polled_total")
                    .Help("Records polls read from Salesforce and applied to PostgreSQL")
                    .Register(r)),
      rows_written(prometheus::BuildCounter()
                     .Name("syncforce_rows_written_total")
                     .Help("Changes from the trigger log that Salesforce accepted")
                     .Register(r)),
      write_errors(prometheus::BuildCounter()
                     .Name("syncforce_write_errors_total")
                     .Help("Changes from the trigger log that Salesforce refused (entry FAILED)")
                     .Register(r)),
      load_duration(prometheus::BuildHistogram()
                      .Name("syncforce_load_duration_seconds")
                      .Help("Duration of finished initial loads and reloads")
                      .Register(r)),
      poll_duration(prometheus::BuildHistogram()
                      .Name("syncforce_poll_duration_seconds")
                      .Help("Duration of finished polls")
                      .Register(r)),
      last_poll(prometheus::BuildGauge()
                  .Name("syncforce_last_poll_success_timestamp_seconds")
                  .Help("Unix time of the last poll that finished, per mapping run on this node")
                  .Register(r)),
      api_used(prometheus::BuildGauge()
                 .Name("syncforce_api_calls_used")
                 .Help("Daily Salesforce API calls used by the integration user (last Sforce-Limit-Info)")
                 .Register(r)),
      api_limit(prometheus::BuildGauge()
                  .Name("syncforce_api_calls_limit")
                  .Help("Daily Salesforce API call limit of the integration user's org")
                  .Register(r)),
      api_remaining(prometheus::BuildGauge()
                      .Name("syncforce_api_calls_remaining")
                      .Help("Daily Salesforce API calls left to the integration user's org")
                      .Register(r)),
      cursors_held(prometheus::BuildGauge()
                     .Name("syncforce_query_cursors_held")
                     .Help("Query cursors the integration user holds through this node")
                     .Register(r)),
      cursors_waiting(prometheus::BuildGauge()
                        .Name("syncforce_query_cursors_waiting")
                        .Help("Requests waiting on this node for one of the integration user's query cursors")
                        .Register(r)),
      cursor_waits(prometheus::BuildCounter()
                     .Name("syncforce_query_cursor_waits_total")
                     .Help("Requests that had to wait for a query cursor")
                     .Register(r)),
      lease_moves(prometheus::BuildCounter()
                    .Name("syncforce_lease_moves_total")
                    .Help("Units (mapping read sides, writers, user brokers) this node took over from another node")
                    .Register(r)),
      fencing_refusals(prometheus::BuildCounter()
                         .Name("syncforce_lease_fencing_refusals_total")
                         .Help("Writes refused because the lease's epoch was no longer this node's")
                         .Register(r)) {
    // Cluster counters exist from the start, so rate() and increase() see their first move.
    for (auto k : {lease_kind::mapping, lease_kind::writer, lease_kind::user}) {
      lease_moves.Add({{"kind", to_string(k)}});
      fencing_refusals.Add({{"kind", to_string(k)}});
    }
  }

  Family<Counter>& rows_loaded;
  Family<Counter>& rows_polled;
  Family<Counter>& rows_written;
  Family<Counter>& write_errors;
  Family<Histogram>& load_duration;
  Family<Histogram>& poll_duration;
  Family<Gauge>& last_poll;
  Family<Gauge>& api_used;
  Family<Gauge>& api_limit;
  Family<Gauge>& api_remaining;
  Family<Gauge>& cursors_held;
  Family<Gauge>& cursors_waiting;
  Family<Counter>& cursor_waits;
  Family<Counter>& lease_moves;
  Family<Counter>& fencing_refusals;
};

std::atomic<instruments*> current{nullptr};
std::shared_ptr<prometheus::Registry> current_registry; // keeps the families alive

prometheus::Labels mapping_labels(const std::string& schema, const std::string& object) {
  return {{"schema", schema}, {"object", object}};
}

} // namespace

const char* to_string(lease_kind k) {
  switch (k) {
    case lease_kind::mapping:
      return "mapping";
    case lease_kind::writer:
      return "writer";
    case lease_kind::user:
      return "user";
  }
  return "unknown";
}

lease_kind lease_kind_of(const std::string& unit_kind) {
  if (unit_kind == "writer")
    return lease_kind::writer;
  if (unit_kind == "integration_user")
    return lease_kind::user;
  return lease_kind::mapping;
}

void install(const std::shared_ptr<prometheus::Registry>& registry) {
  static std::mutex m;
  std::lock_guard<std::mutex> lock{m};
  if (current.load() != nullptr || !registry)
    return;
  current_registry = registry;
  // Never freed: workers may still report while the process exits.
  current.store(new instruments(*registry));
}

void rows_loaded(const std::string& schema, const std::string& object, long rows) {
  if (auto* i = current.load(); i != nullptr && rows > 0)
    i->rows_loaded.Add(mapping_labels(schema, object)).Increment(static_cast<double>(rows));
}

void rows_polled(const std::string& schema, const std::string& object, long rows) {
  if (auto* i = current.load(); i != nullptr && rows > 0)
    i->rows_polled.Add(mapping_labels(schema, object)).Increment(static_cast<double>(rows));
}

void load_finished(const std::string& schema, const std::string& object, double seconds) {
  if (auto* i = current.load(); i != nullptr)
    i->load_duration.Add(mapping_labels(schema, object), duration_buckets()).Observe(seconds);
}

void poll_finished(const std::string& schema, const std::string& object, double seconds) {
  auto* i = current.load();
  if (i == nullptr)
    return;
  i->poll_duration.Add(mapping_labels(schema, object), duration_buckets()).Observe(seconds);
  i->last_poll.Add(mapping_labels(schema, object)).SetToCurrentTime();
}

void rows_written(const std::string& schema, const std::string& object, const std::string& operation, long rows) {
  if (auto* i = current.load(); i != nullptr && rows > 0)
    i->rows_written.Add({{"schema", schema}, {"object", object}, {"operation", operation}})
      .Increment(static_cast<double>(rows));
}

void write_errors(const std::string& schema, const std::string& object, const std::string& operation, long rows) {
  if (auto* i = current.load(); i != nullptr && rows > 0)
    i->write_errors.Add({{"schema", schema}, {"object", object}, {"operation", operation}})
      .Increment(static_cast<double>(rows));
}

void api_usage(const std::string& user, std::int64_t used, std::int64_t limit) {
  auto* i = current.load();
  if (i == nullptr || limit <= 0)
    return;
  i->api_used.Add({{"user", user}}).Set(static_cast<double>(used));
  i->api_limit.Add({{"user", user}}).Set(static_cast<double>(limit));
  i->api_remaining.Add({{"user", user}}).Set(static_cast<double>(limit > used ? limit - used : 0));
}

void cursors(const std::string& user, int held, int waiting) {
  auto* i = current.load();
  if (i == nullptr)
    return;
  i->cursors_held.Add({{"user", user}}).Set(held);
  i->cursors_waiting.Add({{"user", user}}).Set(waiting);
}

void cursor_wait(const std::string& user) {
  if (auto* i = current.load(); i != nullptr)
    i->cursor_waits.Add({{"user", user}}).Increment();
}

void lease_moved(lease_kind kind) {
  if (auto* i = current.load(); i != nullptr)
    i->lease_moves.Add({{"kind", to_string(kind)}}).Increment();
}

void fencing_refused(lease_kind kind) {
  if (auto* i = current.load(); i != nullptr)
    i->fencing_refusals.Add({{"kind", to_string(kind)}}).Increment();
}

} // namespace syncforce::metrics
