#include "metrics/process_gauges.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace syncforce::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily one(const std::string& name, const std::string& help, MetricType type, double value) {
  ClientMetric m;
  if (type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return MetricFamily{name, help, type, {m}};
}

int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.')
        ++n;
    ::closedir(d);
    --n; // the directory stream itself
  }
  return n;
}

double boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

} // namespace

std::vector<MetricFamily> process_gauges::Collect() const {
  std::vector<MetricFamily> out;
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return out;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string s; fields >> s;)
    f.push_back(s);
  // f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
  if (f.size() < 22)
    return out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  auto at = [&](int field) { return std::stod(f[static_cast<std::size_t>(field - 3)]); };
  out.push_back(one("process_cpu_seconds_total", "User and system CPU time spent in seconds", MetricType::Counter,
                    (at(14) + at(15)) / ticks));
  out.push_back(one("process_virtual_memory_bytes", "Virtual memory size in bytes", MetricType::Gauge, at(23)));
  out.push_back(
    one("process_resident_memory_bytes", "Resident memory size in bytes", MetricType::Gauge, at(24) * page));
  out.push_back(one("process_start_time_seconds", "Start time of the process since unix epoch in seconds",
                    MetricType::Gauge, boot_time() + at(22) / ticks));
  out.push_back(one("process_open_fds", "Number of open file descriptors", MetricType::Gauge, open_fds()));
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0)
    out.push_back(one("process_max_fds", "Maximum number of open file descriptors", MetricType::Gauge,
                      static_cast<double>(lim.rlim_cur)));
  return out;
}

} // namespace syncforce::metrics
