#include "bench/scenarios/harness.hpp"

#include <pqxx/pqxx>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace syncforce::bench {

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  auto deadline = clock_type::now() + timeout;
  while (true) {
    if (condition())
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
}

void note(const std::string& line) {
  std::cerr << "bench | " << line << std::endl;
}

// ---- child processes ---------------------------------------------------------------

namespace {

std::string& pid_file() {
  static std::string path;
  return path;
}

/// The children still running, written to the pid file whenever the set changes (so that
/// bench/run's trap never signals a pid that has been reused by somebody else).
std::set<pid_t>& live_children() {
  static std::set<pid_t> pids;
  return pids;
}

void write_pid_file() {
  if (pid_file().empty())
    return;
  std::ofstream out(pid_file(), std::ios::trunc);
  for (pid_t p : live_children())
    out << p << "\n";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

} // namespace

void process::set_pid_file(std::string path) {
  pid_file() = std::move(path);
}

std::unique_ptr<process> process::start(const std::vector<std::string>& argv,
                                        const std::map<std::string, std::string>& extra_env,
                                        const std::string& log_path) {
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot create " + log_path);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq != std::string::npos && extra_env.count(entry.substr(0, eq)))
      continue;
    env.push_back(entry);
  }
  for (const auto& [k, v] : extra_env)
    env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args)
    argp.push_back(a.data());
  argp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, 1);
  posix_spawn_file_actions_adddup2(&actions, fd, 2);
  posix_spawn_file_actions_addclose(&actions, fd);
  std::unique_ptr<process> p(new process());
  p->log_path_ = log_path;
  int rc = posix_spawn(&p->pid_, args[0].c_str(), &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fd);
  if (rc != 0) {
    p->pid_ = -1;
    throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  live_children().insert(p->pid_);
  write_pid_file();
  return p;
}

process::~process() {
  if (pid_ > 0 && running())
    stop(5s);
}

bool process::running() {
  if (pid_ <= 0 || exit_code_)
    return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0)
    return true;
  exit_code_ = r < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  live_children().erase(pid_);
  write_pid_file();
  return false;
}

void process::signal(int sig) {
  if (running())
    ::kill(pid_, sig);
}

std::optional<int> process::wait_exit(std::chrono::milliseconds timeout) {
  wait_until([this] { return !running(); }, timeout, 10ms);
  return exit_code_;
}

void process::stop(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  if (!wait_exit(grace)) {
    signal(SIGKILL);
    wait_exit(5s);
  }
}

std::string process::output() const {
  return read_file(log_path_);
}

long process::status_kb(const std::string& key) const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0)
      return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  return -1;
}

namespace {

/// utime + stime (+ cutime + cstime: children it has reaped) of a pid, in clock ticks, and its parent; nullopt
/// when it is gone.
struct proc_times {
  unsigned long long own = 0;
  unsigned long long reaped_children = 0;
  pid_t parent = 0;
};

std::optional<proc_times> read_proc_times(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos)
    return std::nullopt;
  std::istringstream rest(stat.substr(close_paren + 2));
  std::string field;
  proc_times t;
  // After "pid (comm) " the state is field 3, the parent 4; utime, stime, cutime and cstime are 14 to 17.
  for (int i = 3; i <= 17 && rest >> field; ++i) {
    if (i == 4)
      t.parent = static_cast<pid_t>(std::stol(field));
    else if (i == 14 || i == 15)
      t.own += std::stoull(field);
    else if (i == 16 || i == 17)
      t.reaped_children += std::stoull(field);
  }
  return t;
}

double ticks_to_seconds(unsigned long long ticks) {
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

} // namespace

double process::cpu_seconds() const {
  auto t = read_proc_times(pid_);
  return t ? ticks_to_seconds(t->own) : -1;
}

pid_t postmaster_pid(const std::string& url) {
  auto backend = pg_scalar(url, "SELECT pg_backend_pid()");
  auto t = backend ? read_proc_times(static_cast<pid_t>(std::stol(*backend))) : std::nullopt;
  if (!t)
    throw std::runtime_error("cannot find the PostgreSQL server's process (is it on this machine?)");
  return t->parent;
}

cpu_sample sample_cpu(const context& ctx, const process& node, const process& sfemu) {
  return cpu_sample{node.cpu_seconds(), sfemu.cpu_seconds(),
                    ctx.postmaster > 0 ? postgres_cpu_seconds(ctx.postmaster) : -1};
}

json cpu_between(const cpu_sample& before, const cpu_sample& after) {
  auto used = [](double b, double a) { return b < 0 || a < 0 ? -1.0 : std::round((a - b) * 100) / 100; };
  double node = used(before.node, after.node);
  double sfemu = used(before.sfemu, after.sfemu);
  double postgres = used(before.postgres, after.postgres);
  if (node < 0 || sfemu < 0 || postgres < 0)
    return json{{"unknown", "a process's CPU could not be read"}};
  double total = node + sfemu + postgres;
  long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  return json{{"node_secs", node},
              {"sfemu_secs", sfemu},
              {"postgres_secs", postgres},
              {"total_secs", std::round(total * 100) / 100},
              {"cores", cores},
              {"floor_secs", std::round(total / static_cast<double>(cores) * 1000) / 1000}};
}

double rate_ceiling(const json& cpu, double items) {
  double floor = cpu.value("floor_secs", 0.0);
  return floor > 0 ? items / floor : 0;
}

double postgres_cpu_seconds(pid_t postmaster) {
  auto root = read_proc_times(postmaster);
  if (!root)
    return -1;
  // The server itself, the backends and workers it has reaped, and those still running.
  unsigned long long ticks = root->own + root->reaped_children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto t = read_proc_times(static_cast<pid_t>(std::stol(name)));
    if (t && t->parent == postmaster)
      ticks += t->own + t->reaped_children;
  }
  return ticks_to_seconds(ticks);
}

command_result run_command(const std::vector<std::string>& argv, const std::string& log_path,
                           std::chrono::milliseconds timeout) {
  auto p = process::start(argv, {}, log_path);
  auto code = p->wait_exit(timeout);
  if (!code)
    p->stop(2s);
  return {code.value_or(-1), p->output()};
}

// ---- HTTP ------------------------------------------------------------------------------

namespace {

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t\r\n");
    (*static_cast<std::map<std::string, std::string>*>(user))[name] =
      b == std::string::npos ? std::string() : value.substr(b, e - b + 1);
  }
  return size * count;
}

} // namespace

http_client::http_client() : curl_(curl_easy_init()) {
  if (!curl_)
    throw std::runtime_error("curl_easy_init failed");
}

http_client::~http_client() {
  curl_easy_cleanup(curl_);
}

void http_client::request(const std::string& method, const std::string& url, const std::string& payload,
                          const std::string& content_type, http_response& out, bool want_headers) {
  out.body.clear();
  out.headers.clear();
  out.status = 0;
  curl_easy_reset(curl_);
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &out.body);
  if (want_headers) {
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &out.headers);
  }
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 300L);
  if (fresh_) {
    curl_easy_setopt(curl_, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(curl_, CURLOPT_FORBID_REUSE, 1L);
  }
  curl_slist* headers = nullptr;
  if (!bearer_.empty())
    headers = curl_slist_append(headers, bearer_.c_str());
  if (!payload.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  }
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl_);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK)
    throw std::runtime_error(method + " " + url + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &out.status);
}

http_response http_client::request(const std::string& method, const std::string& url, const std::string& payload,
                                   const std::string& content_type, bool want_headers) {
  http_response out;
  request(method, url, payload, content_type, out, want_headers);
  return out;
}

std::string http_client::escape(const std::string& s) {
  char* e = curl_easy_escape(curl_, s.data(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

const http_response& expect(const http_response& r, std::initializer_list<long> ok, const std::string& what) {
  if (std::find(ok.begin(), ok.end(), r.status) == ok.end())
    throw std::runtime_error(what + ": HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 400));
  return r;
}

// ---- sfemu ------------------------------------------------------------------------------

sfemu_api::sfemu_api(std::string base_url) : base_url_(std::move(base_url)) {}

void sfemu_api::reset() {
  expect(http_.request("POST", base_url_ + "/__sfemu/reset", "{}"), {200}, "sfemu reset");
  expect(http_.request("POST", base_url_ + "/__sfemu/settings", R"({"api_limit": 100000000, "api_used": 0})"), {200},
         "sfemu settings");
  reset_counters();
}

void sfemu_api::define(const json& schema) {
  expect(http_.request("POST", base_url_ + "/__sfemu/schema", schema.dump()), {200, 201}, "sfemu schema");
}

void sfemu_api::load_csv(const std::string& object, const std::string& csv) {
  expect(http_.request("POST", base_url_ + "/__sfemu/records/" + object + "?ids=false", csv, "text/csv"), {200, 201},
         "loading " + object);
}

json sfemu_api::counters() {
  return json::parse(expect(http_.request("GET", base_url_ + "/__sfemu/counters"), {200}, "sfemu counters").body);
}

void sfemu_api::reset_counters() {
  expect(http_.request("POST", base_url_ + "/__sfemu/counters/reset", "{}"), {200}, "sfemu counters reset");
}

void sfemu_api::login() {
  std::string form = "grant_type=password&client_id=bench&client_secret=bench&username=" +
                     http_.escape("admin@sfemu.local") + "&password=" + http_.escape("sfemu");
  auto r = expect(http_.request("POST", base_url_ + "/services/oauth2/token", form, "application/x-www-form-urlencoded"),
                  {200}, "OAuth login");
  http_.set_bearer(json::parse(r.body).at("access_token").get<std::string>());
}

long sfemu_api::count(const std::string& soql) {
  auto r = expect(http_.request("GET", rest("query?q=" + http_.escape(soql))), {200}, "count query");
  return json::parse(r.body).at("totalSize").get<long>();
}

// ---- PostgreSQL -------------------------------------------------------------------------

namespace {

std::string with_database(const std::string& url, const std::string& db) {
  auto slash = url.rfind('/');
  auto query = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

} // namespace

scratch_db::scratch_db(const std::string& admin_url, const std::string& name)
  : admin_url_(admin_url), name_(name), url_(with_database(admin_url, name)) {
  pqxx::connection c(admin_url_);
  pqxx::nontransaction tx(c);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
}

scratch_db::~scratch_db() {
  try {
    pqxx::connection c(admin_url_);
    pqxx::nontransaction tx(c);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    note(std::string("could not drop database ") + name_ + ": " + e.what());
  }
}

std::optional<std::string> pg_scalar(const std::string& url, const std::string& sql) {
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

long pg_count(const std::string& url, const std::string& sql) {
  auto v = pg_scalar(url, sql);
  return v ? std::stol(*v) : -1;
}

void pg_exec(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

// ---- the bench object ------------------------------------------------------------------

json bench_schema() {
  json fields = json::array();
  fields.push_back({{"name", "Ext_Id__c"}, {"type", "string"}, {"length", 40}, {"external_id", true}, {"unique", true}});
  for (int i = 1; i <= 7; ++i)
    fields.push_back({{"name", "Text_" + std::to_string(i) + "__c"}, {"type", "string"}, {"length", 80}});
  for (int i = 1; i <= 4; ++i)
    fields.push_back(
      {{"name", "Number_" + std::to_string(i) + "__c"}, {"type", "double"}, {"precision", 18}, {"scale", 2}});
  for (int i = 1; i <= 2; ++i)
    fields.push_back({{"name", "Flag_" + std::to_string(i) + "__c"}, {"type", "boolean"}});
  for (int i = 1; i <= 2; ++i)
    fields.push_back({{"name", "Date_" + std::to_string(i) + "__c"}, {"type", "date"}});
  fields.push_back({{"name", "Stamp__c"}, {"type", "datetime"}});
  fields.push_back({{"name", "Email__c"}, {"type", "email"}, {"length", 80}});
  fields.push_back({{"name", "Phone__c"}, {"type", "phone"}, {"length", 40}});
  json object{{"name", bench_object}, {"label", "Bench Object"}, {"key_prefix", "a0B"}, {"fields", fields}};
  return json{{"objects", json::array({object})}};
}

std::vector<std::string> bench_data_fields() {
  std::vector<std::string> names{"Name"};
  const json schema = bench_schema(); // kept alive for the loop
  for (const auto& f : schema["objects"][0]["fields"])
    names.push_back(f["name"].get<std::string>());
  return names;
}

std::vector<std::string> bench_mapping_fields() {
  std::vector<std::string> names{"Id", "IsDeleted", "SystemModstamp", "CreatedDate"};
  for (auto& f : bench_data_fields())
    names.push_back(f);
  return names;
}

void write_bench_row(csv::writer& out, long i) {
  char date[16];
  std::snprintf(date, sizeof date, "2024-%02ld-%02ld", 1 + i % 12, 1 + i % 28);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "2024-05-%02ldT%02ld:%02ld:%02ld.000Z", 1 + i % 28, i % 24, i % 60,
                (i * 7) % 60);
  out.field("Bench record " + std::to_string(i));
  out.field("E" + std::to_string(i));
  for (int f = 1; f <= 7; ++f)
    out.field("text value " + std::to_string(f) + " of record " + std::to_string(i));
  for (int f = 1; f <= 4; ++f)
    out.field(std::to_string(i % 100000) + "." + std::to_string(25 * f % 100));
  out.field(i % 2 == 0 ? "true" : "false");
  out.field(i % 3 == 0 ? "true" : "false");
  out.field(date);
  out.field(date);
  out.field(stamp);
  out.field("user" + std::to_string(i) + "@example.com");
  out.field("+1 555 " + std::to_string(1000000 + i % 9000000));
  out.end_row();
}

std::string bench_csv(long first, long count) {
  csv::writer out;
  out.write_row(bench_data_fields());
  for (long i = first; i < first + count; ++i)
    write_bench_row(out, i);
  return out.take();
}

void load_bench_records(sfemu_api& emu, long count) {
  constexpr long chunk = 50000;
  for (long first = 0; first < count; first += chunk)
    emu.load_csv(bench_object, bench_csv(first, std::min(chunk, count - first)));
}

json bench_mapping(bool read_write, int polling_seconds) {
  json fields = json::object();
  for (const auto& f : bench_mapping_fields())
    fields[f] = json::object();
  json config{{"access", read_write ? "read_write" : "read_only"},
              {"sf_polling_seconds", polling_seconds},
              {"fields", fields},
              {"indexes", {{"Ext_Id__c", {{"unique", true}}}}}};
  if (read_write)
    config["upsert_field"] = "Ext_Id__c";
  return json{{"object_name", bench_object}, {"config", config}};
}

json node_config(const std::string& sfemu_url, const json& mappings, const json& features) {
  return json{{"version", 1},
              {"schema", "salesforce"},
              {"salesforce",
               {{"login_url", sfemu_url}, {"username", "admin@sfemu.local"}, {"password_env", "SF_BENCH_PASSWORD"}}},
              {"connection", {{"name", "bench"}, {"api_version", "60.0"}, {"features", features}}},
              {"mappings", mappings}};
}

// ---- results ----------------------------------------------------------------------------

json percentiles(std::vector<double> samples_ms) {
  if (samples_ms.empty())
    return json{{"count", 0}};
  std::sort(samples_ms.begin(), samples_ms.end());
  auto rank = [&](double p) {
    auto k = static_cast<size_t>(std::ceil(p * static_cast<double>(samples_ms.size())));
    return samples_ms[std::min(samples_ms.size() - 1, k == 0 ? 0 : k - 1)];
  };
  double sum = 0;
  for (double s : samples_ms)
    sum += s;
  auto r3 = [](double v) { return std::round(v * 1000) / 1000; };
  return json{{"count", samples_ms.size()},   {"p50_ms", r3(rank(0.50))}, {"p95_ms", r3(rank(0.95))},
              {"p99_ms", r3(rank(0.99))},     {"min_ms", r3(samples_ms.front())},
              {"max_ms", r3(samples_ms.back())}, {"mean_ms", r3(sum / static_cast<double>(samples_ms.size()))}};
}

json ratio(double value, double baseline) {
  if (!(baseline > 0) || !(value >= 0))
    return nullptr;
  return std::round(value / baseline * 1000) / 1000;
}

// ---- sfemu and nodes ---------------------------------------------------------------------

std::unique_ptr<process> start_sfemu(context& ctx, const std::string& name, const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv{ctx.sfemu, "--port", "0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto p = process::start(argv, {}, ctx.log_path(name));
  const std::string marker = "sfemu listening on ";
  std::string url;
  wait_until(
    [&] {
      auto out = p->output();
      auto at = out.find(marker);
      if (at != std::string::npos && out.find('\n', at) != std::string::npos)
        url = out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
      return !url.empty() || !p->running();
    },
    20s, 10ms);
  if (url.empty())
    throw std::runtime_error("sfemu did not start: " + p->output());
  ctx.sfemu_url = url;
  return p;
}

// ---- nodes ------------------------------------------------------------------------------

node_run::node_run(context& ctx, const std::string& name, const std::string& db_url, const json& config,
                   const std::vector<std::string>& extra_args, std::optional<int> test_poll_seconds,
                   const std::string& node_name, const std::map<std::string, std::string>& extra_env)
  : db_url_(db_url) {
  std::string config_path = ctx.work_dir + "/" + name + ".config.json";
  std::ofstream(config_path) << config.dump(2);
  std::vector<std::string> args{ctx.syncforced, "--database-url", db_url,   "--grpc-address", "127.0.0.1:0",
                                "--node-name",  node_name,       "--config", config_path};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::map<std::string, std::string> env{{"SF_BENCH_PASSWORD", "sfemu"},
                                         {"SYNCFORCE_INSECURE_LOGIN_HOSTS", "127.0.0.1,localhost"}};
  if (test_poll_seconds)
    env["SYNCFORCE_TEST_POLL_SECONDS"] = std::to_string(*test_poll_seconds);
  env.insert(extra_env.begin(), extra_env.end());
  proc_ = process::start(args, env, ctx.log_path(name));
}

std::optional<std::string> node_run::state(const std::string& object) const {
  return pg_scalar(db_url_, "SELECT state FROM syncforce.mappings WHERE object_name = '" + object + "'");
}

bool node_run::wait_state(const std::string& object, const std::string& want, std::chrono::milliseconds timeout) const {
  return wait_until([&] { return !proc_->running() || state(object) == want; }, timeout, 50ms) && proc_->running();
}

std::string node_run::stop() {
  proc_->stop();
  return proc_->output();
}

} // namespace syncforce::bench
