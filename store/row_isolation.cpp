#include "store/row_isolation.hpp"

#include "sync/value_cleaning.hpp"

#include <atomic>

namespace syncforce::store {

namespace {

std::atomic<unsigned> savepoint_counter{0};

/// Tries [first, last) in a savepoint; on a row error splits it.
void isolate(pqxx::dbtransaction& tx, std::size_t first, std::size_t last, const apply_rows& apply,
             std::vector<refused_row>& refused) {
  if (first >= last)
    return;
  try {
    pqxx::subtransaction sub(tx, "syncforce_rows_" + std::to_string(++savepoint_counter));
    apply(sub, first, last);
    sub.commit();
    return;
  } catch (const pqxx::sql_error& e) {
    if (!is_row_error(e))
      throw;
    if (last - first == 1) {
      refused_row r;
      r.index = first;
      r.column = copy_error_column(e.what());
      r.error = primary_message(e.what());
      refused.push_back(std::move(r));
      return;
    }
  }
  const auto mid = first + (last - first) / 2;
  isolate(tx, first, mid, apply, refused);
  isolate(tx, mid, last, apply, refused);
}

} // namespace

bool is_row_error(const pqxx::sql_error& e) {
  const auto& state = e.sqlstate();
  if (state.size() != 5)
    return false;
  // 22: data exception (invalid byte sequence, value too long, out of range,
  // invalid text representation, ...); 23: integrity constraint violation
  // (e.g. a unique external id shared by two records); 54000: program limit
  // exceeded (a value too large for an index row).
  return state.compare(0, 2, "22") == 0 || state.compare(0, 2, "23") == 0 || state == "54000";
}

std::string copy_error_column(const std::string& message) {
  auto p = message.find("CONTEXT:");
  if (p == std::string::npos)
    return {};
  auto c = message.find(", column ", p);
  if (c == std::string::npos)
    return {};
  c += 9;
  // Text COPY adds `: "value"`; binary COPY shows no value: the line ends there.
  auto end = message.find_first_of(":\n", c);
  if (end == std::string::npos)
    end = message.size();
  return message.substr(c, end - c);
}

std::string primary_message(const std::string& message) {
  std::string m = message.substr(0, message.find('\n'));
  for (const char* prefix : {"ERROR:", "FATAL:"})
    if (m.compare(0, std::char_traits<char>::length(prefix), prefix) == 0)
      m.erase(0, std::char_traits<char>::length(prefix));
  while (!m.empty() && m.front() == ' ')
    m.erase(0, 1);
  return error_without_value(m);
}

std::vector<refused_row> apply_isolating(pqxx::dbtransaction& tx, std::size_t n, const apply_rows& apply) {
  std::vector<refused_row> refused;
  isolate(tx, 0, n, apply, refused);
  return refused;
}

} // namespace syncforce::store
