#include "actors/mapping_log.hpp"

#include "sync/clock.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <list>
#include <mutex>
#include <unordered_map>

namespace syncforce::actors {

namespace {

struct ring {
  std::deque<mapping_log_line> lines;
  std::list<std::string>::iterator age; ///< place in the recency list
};

/// One per process: a mutex is enough, a line is short and logged rarely
/// compared with the work it describes.
struct store {
  std::mutex mtx;
  std::unordered_map<std::string, ring> rings;
  /// Mapping ids, most recently written first.
  std::list<std::string> recency;
  std::uint64_t next_seq = 0;
};

store& the_store() {
  static store s;
  return s;
}

} // namespace

void record_mapping_log(const std::string& mapping_id, const std::string& level, const std::string& text) {
  if (mapping_id.empty())
    return;
  auto now = real_time().unix_ms();
  auto& s = the_store();
  std::lock_guard<std::mutex> guard(s.mtx);
  auto i = s.rings.find(mapping_id);
  if (i == s.rings.end()) {
    if (s.rings.size() >= mapping_log_mappings_kept) {
      s.rings.erase(s.recency.back());
      s.recency.pop_back();
    }
    s.recency.push_front(mapping_id);
    i = s.rings.emplace(mapping_id, ring{{}, s.recency.begin()}).first;
  } else {
    s.recency.splice(s.recency.begin(), s.recency, i->second.age);
  }
  auto& lines = i->second.lines;
  if (lines.size() >= mapping_log_lines_kept)
    lines.pop_front();
  lines.push_back(mapping_log_line{now, level, text, ++s.next_seq});
}

std::vector<mapping_log_line> recent_mapping_log(const std::string& mapping_id, std::size_t max) {
  auto& s = the_store();
  std::lock_guard<std::mutex> guard(s.mtx);
  auto i = s.rings.find(mapping_id);
  if (i == s.rings.end())
    return {};
  const auto& lines = i->second.lines;
  auto n = std::min(max, lines.size());
  return {lines.end() - static_cast<std::ptrdiff_t>(n), lines.end()};
}

std::string object_log_key(const std::string& connection_id, const std::string& object_name) {
  std::string key = "object:" + connection_id + "|";
  for (char c : object_name)
    key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::vector<mapping_log_line> recent_mapping_log(const std::string& mapping_id, const std::string& connection_id,
                                                 const std::string& object_name, std::size_t max) {
  auto lines = recent_mapping_log(mapping_id, max);
  auto more = recent_mapping_log(object_log_key(connection_id, object_name), max);
  lines.insert(lines.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  std::stable_sort(lines.begin(), lines.end(),
                   [](const mapping_log_line& a, const mapping_log_line& b) { return a.seq < b.seq; });
  if (lines.size() > max)
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(max));
  return lines;
}

void clear_mapping_log() {
  auto& s = the_store();
  std::lock_guard<std::mutex> guard(s.mtx);
  s.rings.clear();
  s.recency.clear();
}

} // namespace syncforce::actors
