// sfemu_bench: how much memory sfemu needs for 1,000,000 records of a 20-field
// custom object, and how fast it serves 2000-record REST query pages to a
// client that only reads them, compared with plain loopback HTTP of a static
// body of the same size (cpp-httplib serving, libcurl reading, as here).
//
//   sfemu_bench [--sfemu build/bin/sfemu] [--records 1000000] [--json out.json]
#include "sync/csv.hpp"

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// ---- the sfemu child process ---------------------------------------------------------

/// sfemu started with `--port 0`, its output going to a temporary file.
class sfemu_child {
public:
  explicit sfemu_child(const std::string& binary) {
    char log_template[] = "/tmp/sfemu_bench_XXXXXX";
    int fd = mkstemp(log_template);
    if (fd < 0)
      throw std::runtime_error("cannot create a temporary log file");
    log_path_ = log_template;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, 1);
    posix_spawn_file_actions_adddup2(&actions, fd, 2);
    posix_spawn_file_actions_addclose(&actions, fd);
    std::vector<std::string> args{binary, "--port", "0"};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fd);
    if (rc != 0)
      throw std::runtime_error("cannot start " + binary);
    const std::regex listening(R"(sfemu listening on (http://127\.0\.0\.1:\d+))");
    auto deadline = clock_type::now() + std::chrono::seconds(20);
    while (clock_type::now() < deadline) {
      std::smatch m;
      std::string out = output();
      if (std::regex_search(out, m, listening)) {
        base_url_ = m[1];
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("sfemu exited early:\n" + out);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("sfemu did not print its listening line:\n" + output());
  }
  sfemu_child(const sfemu_child&) = delete;
  sfemu_child& operator=(const sfemu_child&) = delete;
  ~sfemu_child() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    std::remove(log_path_.c_str());
  }

  const std::string& base_url() const { return base_url_; }
  pid_t pid() const { return pid_; }

  std::string output() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  /// CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat.
  double cpu_seconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos)
      return 0;
    std::istringstream rest(stat.substr(close_paren + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14)
        utime = std::stoull(field);
      else if (i == 15)
        stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

  /// A line of /proc/<pid>/status in kB (VmRSS, VmHWM), or -1.
  long status_kb(const std::string& key) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key + ":", 0) == 0)
        return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
    }
    return -1;
  }

private:
  pid_t pid_ = -1;
  std::string base_url_;
  std::string log_path_;
};

// ---- a libcurl client (one handle: keep-alive) ------------------------------------------

struct http_response {
  long status = 0;
  std::string body;
};

/// A blocking HTTP/1.1 client over one libcurl easy handle (the connection is reused).
class http_client {
public:
  http_client() : curl_(curl_easy_init()) {
    if (!curl_)
      throw std::runtime_error("curl_easy_init failed");
  }
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;
  ~http_client() { curl_easy_cleanup(curl_); }

  void set_bearer(const std::string& token) { bearer_ = "Authorization: Bearer " + token; }

  /// Sends a request; `body` is reused as the response buffer (no reallocation per page).
  void request(const std::string& method, const std::string& url, const std::string& payload,
               const std::string& content_type, http_response& out) {
    out.body.clear();
    out.status = 0;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &http_client::on_data);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
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

  http_response request(const std::string& method, const std::string& url, const std::string& payload = {},
                        const std::string& content_type = "application/json") {
    http_response out;
    request(method, url, payload, content_type, out);
    return out;
  }

  std::string escape(const std::string& s) {
    char* e = curl_easy_escape(curl_, s.data(), static_cast<int>(s.size()));
    std::string out = e ? e : "";
    curl_free(e);
    return out;
  }

private:
  static size_t on_data(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
  }

  CURL* curl_;
  std::string bearer_;
};

http_response expect(http_response r, long status, const std::string& what) {
  if (r.status != status)
    throw std::runtime_error(what + ": HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 500));
  return r;
}

// ---- the benchmark object ----------------------------------------------------------------

constexpr const char* object_name = "Bench_Object__c";

/// 20 fields: Name plus 19 custom fields of the common types.
nlohmann::json bench_schema() {
  nlohmann::json fields = nlohmann::json::array();
  for (int i = 1; i <= 8; ++i)
    fields.push_back({{"name", "Text_" + std::to_string(i) + "__c"}, {"type", "string"}, {"length", 80}});
  for (int i = 1; i <= 4; ++i)
    fields.push_back({{"name", "Number_" + std::to_string(i) + "__c"}, {"type", "double"}, {"precision", 18}, {"scale", 2}});
  for (int i = 1; i <= 2; ++i)
    fields.push_back({{"name", "Flag_" + std::to_string(i) + "__c"}, {"type", "boolean"}});
  for (int i = 1; i <= 2; ++i)
    fields.push_back({{"name", "Date_" + std::to_string(i) + "__c"}, {"type", "date"}});
  fields.push_back({{"name", "Stamp__c"}, {"type", "datetime"}});
  fields.push_back({{"name", "Email__c"}, {"type", "email"}, {"length", 80}});
  fields.push_back({{"name", "Phone__c"}, {"type", "phone"}, {"length", 40}});
  nlohmann::json object = nlohmann::json::object();
  object["name"] = object_name;
  object["label"] = "Bench Object";
  object["fields"] = fields;
  nlohmann::json schema = nlohmann::json::object();
  schema["objects"] = nlohmann::json::array();
  schema["objects"].push_back(object);
  return schema;
}

std::vector<std::string> bench_fields() {
  std::vector<std::string> names{"Id", "Name"};
  const nlohmann::json schema = bench_schema();
  for (auto& f : schema["objects"][0]["fields"])
    names.push_back(f["name"].get<std::string>());
  return names;
}

/// One record as CSV fields, in bench_fields() order without Id.
void write_bench_row(syncforce::csv::writer& out, long i) {
  char date[16];
  std::snprintf(date, sizeof date, "2024-%02ld-%02ld", 1 + i % 12, 1 + i % 28);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "2024-05-%02ldT%02ld:%02ld:%02ld.000Z", 1 + i % 28, i % 24, i % 60, (i * 7) % 60);
  out.field("Bench record " + std::to_string(i));
  for (int f = 1; f <= 8; ++f)
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

/// The value of "nextRecordsUrl" in a query page, or empty when done.
std::string next_records_url(std::string_view body) {
  static constexpr std::string_view key = "\"nextRecordsUrl\":\"";
  auto at = body.find(key);
  if (at == std::string_view::npos)
    at = body.rfind(key);
  if (at == std::string_view::npos)
    return {};
  auto start = at + key.size();
  auto end = body.find('"', start);
  return std::string(body.substr(start, end - start));
}

/// Counts records in a page by their "attributes" objects.
long count_records(std::string_view body) {
  static constexpr std::string_view key = "{\"attributes\":";
  long n = 0;
  for (auto at = body.find(key); at != std::string_view::npos; at = body.find(key, at + key.size()))
    ++n;
  return n;
}

/// The 1-minute load average, as text (the machine may be shared).
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

// ---- phases ----------------------------------------------------------------------------------

struct report {
  long records = 0;
  double load_seconds = 0;
  long rss_empty_kb = 0;
  long rss_loaded_kb = 0;
  long hwm_loaded_kb = 0;
  long rss_after_queries_kb = 0;
  long pages = 0;
  double page_bytes_avg = 0;
  double rate_100k = 0;   ///< records/s over the first 100,000 records
  double rate_all = 0;    ///< records/s over all records
  double baseline_rate = 0; ///< records/s equivalent of static pages of the same size
  double sfemu_cpu_seconds = 0; ///< CPU sfemu used while serving all pages
};

void load_records(sfemu_child& emu, http_client& http, long total, long chunk, report& rep) {
  expect(http.request("POST", emu.base_url() + "/__sfemu/schema", bench_schema().dump()), 200, "define the bench object");
  auto fields = bench_fields();
  std::vector<std::string> header(fields.begin() + 1, fields.end()); // no Id: sfemu assigns it
  syncforce::csv::writer csv;
  auto start = clock_type::now();
  for (long first = 0; first < total; first += chunk) {
    csv.clear();
    csv.write_row(header);
    for (long i = first; i < std::min(total, first + chunk); ++i)
      write_bench_row(csv, i);
    auto r = http.request("POST", emu.base_url() + "/__sfemu/records/" + object_name + "?ids=false", csv.buffer(),
                          "text/csv");
    if (r.status != 200 && r.status != 201)
      throw std::runtime_error("loading records: HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 500));
    if ((first / chunk) % 10 == 9)
      std::cerr << "  loaded " << first + chunk << " records\n";
  }
  rep.load_seconds = seconds_since(start);
}

std::string login(sfemu_child& emu, http_client& http) {
  std::string form = "grant_type=password&client_id=sfemu-bench&client_secret=sfemu-bench"
                     "&username=" + http.escape("admin@sfemu.local") + "&password=" + http.escape("sfemu");
  auto r = expect(http.request("POST", emu.base_url() + "/services/oauth2/token", form, "application/x-www-form-urlencoded"),
                  200, "OAuth password login");
  auto j = nlohmann::json::parse(r.body);
  return j.at("access_token").get<std::string>();
}

/// Reads every page of the query, as a client that only reads them; returns one page body.
std::string read_pages(sfemu_child& emu, http_client& http, report& rep) {
  std::string soql = "SELECT ";
  auto fields = bench_fields();
  for (size_t i = 0; i < fields.size(); ++i)
    soql += (i ? ", " : "") + fields[i];
  soql += std::string(" FROM ") + object_name;
  std::string url = emu.base_url() + "/services/data/v60.0/query?q=" + http.escape(soql);
  http_response page;
  page.body.reserve(4 << 20);
  std::string sample;
  long records = 0;
  double bytes = 0;
  auto start = clock_type::now();
  while (!url.empty()) {
    http.request("GET", url, {}, {}, page);
    if (page.status != 200)
      throw std::runtime_error("query page " + std::to_string(rep.pages + 1) + ": HTTP " + std::to_string(page.status) +
                               ": " + page.body.substr(0, 500));
    ++rep.pages;
    bytes += static_cast<double>(page.body.size());
    long before = records;
    records += count_records(page.body);
    if (before < 100000 && records >= 100000)
      rep.rate_100k = static_cast<double>(records) / seconds_since(start);
    if (sample.empty())
      sample = page.body;
    std::string next = next_records_url(page.body);
    url = next.empty() ? std::string() : emu.base_url() + next;
  }
  double elapsed = seconds_since(start);
  if (records != rep.records)
    throw std::runtime_error("the query returned " + std::to_string(records) + " records, expected " +
                             std::to_string(rep.records));
  rep.rate_all = static_cast<double>(records) / elapsed;
  rep.page_bytes_avg = bytes / static_cast<double>(rep.pages);
  return sample;
}

/// The same client reading a static body of the same size from cpp-httplib over loopback.
void baseline(const std::string& sample, long pages, report& rep) {
  httplib::Server server;
  server.Get("/page", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(sample, "application/json;charset=UTF-8");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_client http;
  http_response page;
  page.body.reserve(4 << 20);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/page";
  auto start = clock_type::now();
  long records = 0;
  for (long i = 0; i < pages; ++i) {
    http.request("GET", url, {}, {}, page);
    if (page.status != 200 || page.body.size() != sample.size())
      throw std::runtime_error("baseline page came back wrong");
    records += count_records(page.body);
  }
  rep.baseline_rate = static_cast<double>(records) / seconds_since(start);
  server.stop();
  thread.join();
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"sfemu_bench: sfemu's memory for N records of a 20-field object and its query-page serving rate"};
  std::string binary;
  if (const char* env = std::getenv("SFEMU_BIN"))
    binary = env;
  long records = 1000000;
  long chunk = 20000;
  std::string json_path;
  std::string dump_path;
  app.add_option("--sfemu", binary, "the sfemu binary (default: $SFEMU_BIN, else sfemu next to this program)");
  app.add_option("--records", records, "records to load")->check(CLI::PositiveNumber);
  app.add_option("--chunk", chunk, "records per control-API load call")->check(CLI::PositiveNumber);
  app.add_option("--json", json_path, "also write the results as JSON to this file");
  app.add_option("--dump-page", dump_path, "write the first query page to this file");
  CLI11_PARSE(app, argc, argv);
  if (binary.empty()) {
    std::string self = argv[0];
    auto slash = self.rfind('/');
    binary = (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/sfemu";
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  report rep;
  rep.records = records;
  try {
    sfemu_child emu(binary);
    http_client http;
    rep.rss_empty_kb = emu.status_kb("VmRSS");
    std::cout << "sfemu " << emu.base_url() << " (pid " << emu.pid() << "), empty org: VmRSS " << rep.rss_empty_kb / 1024
              << " MiB\n";
    std::cout << "loading " << records << " records of " << object_name << " (20 fields) through /__sfemu/records (CSV) ...\n";
    load_records(emu, http, records, chunk, rep);
    rep.rss_loaded_kb = emu.status_kb("VmRSS");
    rep.hwm_loaded_kb = emu.status_kb("VmHWM");
    std::cout << "loaded in " << rep.load_seconds << " s (" << static_cast<long>(records / rep.load_seconds)
              << " records/s)\n";

    http.set_bearer(login(emu, http));
    double cpu_before = emu.cpu_seconds();
    std::string sample = read_pages(emu, http, rep);
    rep.sfemu_cpu_seconds = emu.cpu_seconds() - cpu_before;
    if (!dump_path.empty())
      std::ofstream(dump_path) << sample;
    rep.rss_after_queries_kb = emu.status_kb("VmRSS");
    baseline(sample, rep.pages, rep);
  } catch (const std::exception& e) {
    std::cerr << "sfemu_bench: " << e.what() << "\n";
    curl_global_cleanup();
    return 1;
  }
  curl_global_cleanup();

  const double mib = 1024.0;
  std::printf("\n== sfemu with %ld records of a 20-field custom object ==\n", rep.records);
  std::printf("memory  VmRSS %.0f MiB loaded (%.0f MiB empty; peak VmHWM %.0f MiB; %.0f MiB after the queries)"
              "  aim < 2048 MiB: %s\n",
              rep.rss_loaded_kb / mib, rep.rss_empty_kb / mib, rep.hwm_loaded_kb / mib, rep.rss_after_queries_kb / mib,
              rep.rss_loaded_kb < 2048 * 1024 ? "met" : "NOT met");
  std::printf("pages   %ld pages of 2000 records, %.0f KiB each on average\n", rep.pages, rep.page_bytes_avg / 1024);
  std::string first_100k = rep.rate_100k > 0 ? std::to_string(static_cast<long>(rep.rate_100k)) : std::string("n/a");
  std::printf("rate    %s records/s over the first 100,000; %.0f records/s over all %ld  aim >= 100000: %s\n",
              first_100k.c_str(), rep.rate_all, rep.records, rep.rate_all >= 100000 ? "met" : "NOT met");
  std::printf("cpu     sfemu used %.1f CPU-s for the pages: %.0f records per sfemu CPU-second (load average now %s)\n",
              rep.sfemu_cpu_seconds, rep.sfemu_cpu_seconds > 0 ? rep.records / rep.sfemu_cpu_seconds : 0.0,
              load_average().c_str());
  std::printf("compare loopback HTTP of a static %.0f KiB body (cpp-httplib -> libcurl): %.0f records/s equivalent;"
              " sfemu reaches %.1f%% of it\n",
              rep.page_bytes_avg / 1024, rep.baseline_rate, 100.0 * rep.rate_all / rep.baseline_rate);
  if (!json_path.empty()) {
    nlohmann::json j = {{"records", rep.records},
                        {"load_seconds", rep.load_seconds},
                        {"rss_empty_kib", rep.rss_empty_kb},
                        {"rss_loaded_kib", rep.rss_loaded_kb},
                        {"hwm_loaded_kib", rep.hwm_loaded_kb},
                        {"rss_after_queries_kib", rep.rss_after_queries_kb},
                        {"pages", rep.pages},
                        {"page_bytes_avg", rep.page_bytes_avg},
                        {"records_per_s_first_100k", rep.rate_100k},
                        {"records_per_s_all", rep.rate_all},
                        {"baseline_records_per_s", rep.baseline_rate},
                        {"ratio_to_baseline", rep.rate_all / rep.baseline_rate},
                        {"sfemu_cpu_seconds_for_pages", rep.sfemu_cpu_seconds},
                        {"load_average", load_average()}};
    std::ofstream(json_path) << j.dump(2) << "\n";
  }
  return 0;
}
