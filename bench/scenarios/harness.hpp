#pragma once
// bench_scenarios: the scenario harness behind bench/run. Shared pieces: child
// processes, a libcurl client, sfemu's control API, PostgreSQL helpers, the
// 20-field bench object, percentiles, and the run context.

#include "sync/csv.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::bench {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(clock_type::time_point start);

/// Polls `condition` every `step` until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = 20ms);

// ---- child processes ---------------------------------------------------------------

/// A child process, its stdout and stderr going to a log file; SIGTERM then
/// SIGKILL when destroyed while running. While it runs its pid is listed in the run's pid
/// file so that bench/run's trap can stop it if the harness itself dies.
class process {
public:
  static std::unique_ptr<process> start(const std::vector<std::string>& argv,
                                        const std::map<std::string, std::string>& extra_env,
                                        const std::string& log_path);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  /// The exit code (128+signal when killed), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// SIGTERM, wait up to `grace`, then SIGKILL.
  void stop(std::chrono::milliseconds grace = 20s);
  std::string output() const;
  /// A line of /proc/<pid>/status in kB (VmRSS, VmHWM), or -1.
  long status_kb(const std::string& key) const;
  /// CPU seconds (user + system) used so far, from /proc/<pid>/stat.
  double cpu_seconds() const;

  /// Where pids of started processes are appended (empty: nowhere).
  static void set_pid_file(std::string path);

private:
  process() = default;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

/// Runs a command to completion; its exit code and output.
struct command_result {
  int code = -1;
  std::string output;
};
command_result run_command(const std::vector<std::string>& argv, const std::string& log_path,
                           std::chrono::milliseconds timeout = 600s);

// ---- HTTP ------------------------------------------------------------------------------

struct http_response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers; ///< lower-case names
};

/// A blocking HTTP/1.1 client over one libcurl easy handle (keep-alive).
class http_client {
public:
  http_client();
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  void set_bearer(const std::string& token) { bearer_ = "Authorization: Bearer " + token; }
  /// A new connection for every request (probes: sfemu answers a reused connection ~40 ms late, Nagle).
  void set_fresh_connections(bool fresh) { fresh_ = fresh; }
  /// Sends a request; `out.body` is reused (no reallocation per page). Throws on transport errors.
  void request(const std::string& method, const std::string& url, const std::string& payload,
               const std::string& content_type, http_response& out, bool want_headers = false);
  http_response request(const std::string& method, const std::string& url, const std::string& payload = {},
                        const std::string& content_type = "application/json", bool want_headers = false);
  std::string escape(const std::string& s);

private:
  CURL* curl_;
  std::string bearer_;
  bool fresh_ = false;
};

/// Throws unless the status is one of `ok`.
const http_response& expect(const http_response& r, std::initializer_list<long> ok, const std::string& what);

// ---- sfemu ------------------------------------------------------------------------------

/// A running sfemu (started by bench/run): its control API and a logged-in REST client.
class sfemu_api {
public:
  explicit sfemu_api(std::string base_url);

  const std::string& base_url() const { return base_url_; }
  std::string rest(const std::string& path) const { return base_url_ + "/services/data/v60.0/" + path; }
  http_client& http() { return http_; }

  /// POST /__sfemu/reset, then a high API limit and fresh counters.
  void reset();
  void define(const json& schema);
  /// POST /__sfemu/records/<object> as CSV (ids not returned).
  void load_csv(const std::string& object, const std::string& csv);
  json counters();
  void reset_counters();
  /// OAuth password login as admin@sfemu.local; sets the bearer of http().
  void login();
  /// SELECT COUNT() through the REST API (counts as one API call).
  long count(const std::string& soql);

private:
  std::string base_url_;
  http_client http_;
};

// ---- PostgreSQL -------------------------------------------------------------------------

/// A database of its own on the bench server, dropped when destroyed.
class scratch_db {
public:
  scratch_db(const std::string& admin_url, const std::string& name);
  ~scratch_db();
  scratch_db(const scratch_db&) = delete;
  scratch_db& operator=(const scratch_db&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

/// One value of a query (nullopt for NULL, no row, or an error such as a missing table).
std::optional<std::string> pg_scalar(const std::string& url, const std::string& sql);
long pg_count(const std::string& url, const std::string& sql);
void pg_exec(const std::string& url, const std::string& sql);

// ---- the bench object ------------------------------------------------------------------

inline constexpr const char* bench_object = "Bench_Object__c";
inline constexpr const char* bench_table = "bench_object__c";

/// 20 fields: Name, an external id, 7 texts, 4 numbers, 2 flags, 2 dates, a datetime, an email, a phone.
json bench_schema();
/// Every field of the object the mapping syncs (system fields first).
std::vector<std::string> bench_mapping_fields();
/// The custom fields plus Name, in CSV column order (no system fields).
std::vector<std::string> bench_data_fields();
/// One record as CSV fields, bench_data_fields() order.
void write_bench_row(csv::writer& out, long i);
/// The CSV of records [first, first + count) with a header row.
std::string bench_csv(long first, long count);
/// Loads `count` records into sfemu in chunks.
void load_bench_records(sfemu_api& emu, long count);
/// The mapping of the bench object.
json bench_mapping(bool read_write, int polling_seconds = 600);
/// A configuration file document for one connection.
json node_config(const std::string& sfemu_url, const json& mappings, const json& features = json::object());

// ---- results ----------------------------------------------------------------------------

/// p50/p95/p99 (nearest rank), mean, min, max of samples in milliseconds (to the microsecond).
json percentiles(std::vector<double> samples_ms);
/// A ratio rounded to 3 digits, or null when the baseline is missing.
json ratio(double value, double baseline);

// ---- the run ------------------------------------------------------------------------------

/// Everything a scenario needs: where things are, the sizes, and a place for logs.
struct context {
  bool quick = false;
  std::string admin_url;     ///< the bench PostgreSQL server (database postgres)
  std::string sfemu_url;     ///< the sfemu of the running scenario (start_sfemu)
  std::string sfemu;         ///< binary paths
  std::string syncforced;
  std::string bench_micro;
  std::string psql;
  std::string work_dir;      ///< logs and CSV files
  int db_counter = 0;
  pid_t postmaster = 0;      ///< the bench PostgreSQL server's process (CPU accounting), 0 when unknown

  std::string log_path(const std::string& name) const { return work_dir + "/" + name + ".log"; }
  std::string next_db_name(const std::string& prefix) { return "bench_" + prefix + "_" + std::to_string(++db_counter); }
};

/// Starts a fresh sfemu for a scenario (`--port 0`, waits for its listening line) and points
/// ctx.sfemu_url at it. Each scenario gets its own, so that work one leaves behind in sfemu
/// (a slow request still running) cannot slow the next.
std::unique_ptr<process> start_sfemu(context& ctx, const std::string& name,
                                     const std::vector<std::string>& extra_args = {});

/// A node with a configuration file, started on a database of its own.
class node_run {
public:
  node_run(context& ctx, const std::string& name, const std::string& db_url, const json& config,
           const std::vector<std::string>& extra_args = {}, std::optional<int> test_poll_seconds = std::nullopt,
           const std::string& node_name = "bench-node", const std::map<std::string, std::string>& extra_env = {});
  process& proc() { return *proc_; }
  /// The mapping's state in syncforce.mappings (nullopt while unknown).
  std::optional<std::string> state(const std::string& object) const;
  bool wait_state(const std::string& object, const std::string& state, std::chrono::milliseconds timeout) const;
  /// Stops the node; returns its output.
  std::string stop();

private:
  std::string db_url_;
  std::unique_ptr<process> proc_;
};

void note(const std::string& line); ///< progress on stderr

// ---- CPU accounting -------------------------------------------------------------------

/// The PostgreSQL server's process (the parent of a fresh session's backend); throws unless it runs here.
pid_t postmaster_pid(const std::string& url);
/// CPU seconds (user + system) the server has used so far: itself, its live backends and workers, and
/// those it has reaped.
double postgres_cpu_seconds(pid_t postmaster);

/// CPU seconds used so far by the three processes of a measurement: the node, sfemu and PostgreSQL.
struct cpu_sample {
  double node = 0;
  double sfemu = 0;
  double postgres = 0;
};
cpu_sample sample_cpu(const context& ctx, const process& node, const process& sfemu);
/// What the three used between two samples, each and in total, and `floor_secs`: the total divided by
/// this machine's cores, the least wall time that much CPU needs however well the work overlaps.
json cpu_between(const cpu_sample& before, const cpu_sample& after);
/// The highest rate `items` could reach on this machine with the CPU of `cpu` (cpu_between): items / floor.
double rate_ceiling(const json& cpu, double items);

json scenario_load(context& ctx);
json scenario_write(context& ctx);
json scenario_latency(context& ctx);
json scenario_mappings(context& ctx);
json scenario_micro(context& ctx);
json scenario_cutover(context& ctx);
json scenario_cluster(context& ctx);
json scenario_tie(context& ctx);
json scenario_events(context& ctx);

/// `count` custom objects Idle_1__c.. (sfemu schema) and a read-only mapping of each, polled hourly.
json idle_schema(int count);
json idle_mappings(int count);

json machine_info(const context& ctx);
std::string render_markdown(const json& report);

} // namespace syncforce::bench
