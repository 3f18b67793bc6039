#include "sync/sf_write.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace syncforce {

namespace {

// ---------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------


bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty())
      out += sep;
    out += p;
  }
  return out;
}

/// Length of the valid UTF-8 sequence starting at `i`, or 0 when invalid
/// (bad lead byte, truncated, overlong, surrogate, past U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80)
    return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  static constexpr std::array<std::uint32_t, 5> min_cp{{0, 0, 0x80, 0x800, 0x10000}};
  if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto n = utf8_sequence(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

/// A value fit for an error message: at most ~100 bytes, control characters
/// and invalid UTF-8 bytes as `\xNN`.
std::string printable(std::string_view v) {
  static constexpr std::size_t limit = 100;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    auto n = utf8_sequence(v, i);
    auto c = static_cast<unsigned char>(v[i]);
    if (n == 0 || c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
      ++i;
      continue;
    }
    out.append(v.data() + i, n);
    i += n;
  }
  return out;
}

// ---------------------------------------------------------------------------
// value conversion
// ---------------------------------------------------------------------------

/// A value converted once, then rendered as JSON or CSV.
struct converted {
  enum class type { null, boolean, integer, number, string };
  type t = type::null;
  bool b = false;
  std::int64_t i = 0;
  double d = 0.0;
  std::string text; ///< the CSV text (numbers: plain decimal)
  std::optional<sf_value_error> error;
};

converted fail(std::string_view column, std::string_view value, std::string reason) {
  converted c;
  c.error = sf_value_error{std::string{column}, printable(value), std::move(reason)};
  return c;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i]))
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

int days_in_month(int y, int m) {
  static constexpr std::array<int, 12> days{{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[static_cast<std::size_t>(m - 1)];
}

/// `YYYY-MM-DD` at `pos`; advances past it.
bool parse_date(std::string_view s, std::size_t& pos) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (!digits(s, pos, 4, y) || pos + 10 > s.size() || s[pos + 4] != '-' || !digits(s, pos + 5, 2, m)
      || s[pos + 7] != '-' || !digits(s, pos + 8, 2, d))
    return false;
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
    return false;
  pos += 10;
  return true;
}

/// `HH:MM[:SS[.f...]]` at `pos`; `clock` gets `HH:MM:SS.mmm` (fraction truncated
/// to milliseconds).
bool parse_clock(std::string_view s, std::size_t& pos, std::string& clock) {
  int h = 0;
  int m = 0;
  int sec = 0;
  if (!digits(s, pos, 2, h) || pos + 5 > s.size() || s[pos + 2] != ':' || !digits(s, pos + 3, 2, m))
    return false;
  clock.assign(s.data() + pos, 5);
  pos += 5;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, sec))
      return false;
    clock.append(s.data() + pos, 3);
    pos += 3;
  } else {
    clock += ":00";
  }
  if (h > 23 || m > 59 || sec > 59)
    return false;
  std::string ms;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && is_digit(s[pos]))
      ++pos;
    if (pos == start)
      return false;
    ms.assign(s.data() + start, std::min<std::size_t>(3, pos - start));
  }
  ms.resize(3, '0');
  clock += "." + ms;
  return true;
}

/// An optional zone that must be UTC: `Z`, `+00`, `-00:00`, `+0000`...
bool parse_utc_zone(std::string_view s, std::size_t& pos) {
  if (pos == s.size())
    return true;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
    return true;
  }
  if (s[pos] != '+' && s[pos] != '-')
    return false;
  auto rest = s.substr(pos + 1);
  if (rest.size() < 2 || rest.size() > 8 || rest[0] != '0' || rest[1] != '0')
    return false;
  for (char c : rest)
    if (c != '0' && c != ':')
      return false;
  pos = s.size();
  return true;
}

converted convert_boolean(std::string_view v, std::string_view column) {
  converted c;
  c.t = converted::type::boolean;
  if (iequals(v, "t") || iequals(v, "true")) {
    c.b = true;
  } else if (iequals(v, "f") || iequals(v, "false")) {
    c.b = false;
  } else {
    return fail(column, v, "not a boolean");
  }
  c.text = c.b ? "true" : "false";
  return c;
}

/// Rewrites a decimal number (`-1.5e-05`) as plain decimal text (`-0.000015`),
/// exactly, without going through binary floating point. False if malformed.
bool plain_decimal(std::string_view s, std::string& out, bool& integral) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  bool negative = false;
  if (i < n && (s[i] == '-' || s[i] == '+'))
    negative = s[i++] == '-';
  std::string ds; // all significant-position digits
  while (i < n && is_digit(s[i]))
    ds += s[i++];
  auto int_len = static_cast<std::int64_t>(ds.size());
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && is_digit(s[i]))
      ds += s[i++];
  }
  if (ds.empty())
    return false;
  std::int64_t exponent = 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
      exp_negative = s[i++] == '-';
    std::size_t start = i;
    while (i < n && is_digit(s[i])) {
      if (exponent < 100000)
        exponent = exponent * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start)
      return false;
    if (exp_negative)
      exponent = -exponent;
  }
  if (i != n)
    return false;
  // Position of the decimal point within `ds`, after dropping leading zeros.
  std::int64_t point = int_len + exponent;
  std::size_t lead = 0;
  while (lead < ds.size() && ds[lead] == '0')
    ++lead;
  ds.erase(0, lead);
  point -= static_cast<std::int64_t>(lead);
  while (!ds.empty() && ds.back() == '0')
    ds.pop_back();
  integral = true;
  if (ds.empty()) {
    out = "0";
    return true;
  }
  // Far beyond double precision's range: keep the text bounded.
  if (point > 1000)
    point = 1000;
  if (point < -1000)
    point = -1000;
  out = negative ? "-" : "";
  auto len = static_cast<std::int64_t>(ds.size());
  if (point <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-point), '0') + ds;
    integral = false;
  } else if (point >= len) {
    out += ds + std::string(static_cast<std::size_t>(point - len), '0');
  } else {
    out += ds.substr(0, static_cast<std::size_t>(point)) + "." + ds.substr(static_cast<std::size_t>(point));
    integral = false;
  }
  return true;
}

converted convert_number(std::string_view v, std::string_view column) {
  std::string plain;
  bool integral = false;
  if (!plain_decimal(v, plain, integral))
    return fail(column, v, "not a number");
  errno = 0;
  double d = std::strtod(plain.c_str(), nullptr);
  // Past double precision's range (PostgreSQL could not have stored it).
  if (plain.size() > 400 || std::isinf(d) || std::isnan(d) || (d == 0.0 && plain != "0"))
    return fail(column, v, "number out of range");
  converted c;
  c.text = plain;
  auto magnitude = plain.size() - (plain[0] == '-' ? 1 : 0);
  if (integral && magnitude <= 18) {
    c.t = converted::type::integer;
    c.i = std::strtoll(plain.c_str(), nullptr, 10);
    return c;
  }
  c.t = converted::type::number;
  c.d = d;
  return c;
}

converted convert_integer(std::string_view v, std::string_view column) {
  std::size_t i = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
  if (i == v.size())
    return fail(column, v, "not an integer");
  for (std::size_t k = i; k < v.size(); ++k)
    if (!is_digit(v[k]))
      return fail(column, v, "not an integer");
  std::string copy{v};
  errno = 0;
  long long value = std::strtoll(copy.c_str(), nullptr, 10);
  if (errno == ERANGE)
    return fail(column, v, "integer out of range");
  converted c;
  c.t = converted::type::integer;
  c.i = static_cast<std::int64_t>(value);
  c.text = std::to_string(c.i);
  return c;
}

converted convert_date(std::string_view v, std::string_view column) {
  std::size_t pos = 0;
  if (!parse_date(v, pos) || pos != v.size())
    return fail(column, v, "not a date");
  converted c;
  c.t = converted::type::string;
  c.text = std::string{v};
  return c;
}

converted convert_timestamp(std::string_view v, std::string_view column) {
  std::size_t pos = 0;
  if (!parse_date(v, pos))
    return fail(column, v, "not a timestamp");
  std::string clock = "00:00:00.000";
  if (pos < v.size()) {
    if (v[pos] != ' ' && v[pos] != 'T' && v[pos] != 't')
      return fail(column, v, "not a timestamp");
    ++pos;
    if (!parse_clock(v, pos, clock))
      return fail(column, v, "not a timestamp");
    if (!parse_utc_zone(v, pos) || pos != v.size())
      return fail(column, v, "not a UTC timestamp");
  }
  converted c;
  c.t = converted::type::string;
  c.text = std::string{v.substr(0, 10)} + "T" + clock + "Z";
  return c;
}

converted convert_time(std::string_view v, std::string_view column) {
  std::size_t pos = 0;
  std::string clock;
  if (!parse_clock(v, pos, clock))
    return fail(column, v, "not a time");
  if (!parse_utc_zone(v, pos) || pos != v.size())
    return fail(column, v, "not a UTC time");
  converted c;
  c.t = converted::type::string;
  c.text = clock + "Z";
  return c;
}

converted convert(pg_value_kind kind, const std::optional<std::string>& pg_text, std::string_view column) {
  if (!pg_text)
    return converted{};
  std::string_view v = *pg_text;
  switch (kind) {
    case pg_value_kind::boolean:
      return convert_boolean(v, column);
    case pg_value_kind::double_precision:
      return convert_number(v, column);
    case pg_value_kind::integer:
      return convert_integer(v, column);
    case pg_value_kind::date:
      return convert_date(v, column);
    case pg_value_kind::timestamp:
      return convert_timestamp(v, column);
    case pg_value_kind::time:
      return convert_time(v, column);
    case pg_value_kind::text:
      break;
  }
  if (!valid_utf8(v))
    return fail(column, v, "not valid UTF-8");
  converted c;
  c.t = converted::type::string;
  c.text = std::string{v};
  return c;
}

} // namespace

std::string sf_value_error::to_string() const {
  std::string out;
  if (!column.empty())
    out = "column " + column + ": ";
  return out + reason + ": '" + value + "'";
}

sf_json_value to_sf_json(pg_value_kind kind, const std::optional<std::string>& pg_text,
                         std::string_view column) {
  auto c = convert(kind, pg_text, column);
  sf_json_value out;
  if (c.error) {
    out.error = std::move(c.error);
    return out;
  }
  switch (c.t) {
    case converted::type::null:
      out.value = nullptr;
      break;
    case converted::type::boolean:
      out.value = c.b;
      break;
    case converted::type::integer:
      out.value = c.i;
      break;
    case converted::type::number:
      out.value = c.d;
      break;
    case converted::type::string:
      out.value = std::move(c.text);
      break;
  }
  return out;
}

sf_csv_value to_sf_csv(pg_value_kind kind, const std::optional<std::string>& pg_text,
                       std::string_view column) {
  auto c = convert(kind, pg_text, column);
  sf_csv_value out;
  if (c.error) {
    out.error = std::move(c.error);
    return out;
  }
  // NULL, and an empty string (Salesforce has none), set the field to null.
  if (c.t == converted::type::null || c.text.empty())
    return out;
  out.text = std::move(c.text);
  return out;
}

// ---------------------------------------------------------------------------
// writable fields
// ---------------------------------------------------------------------------

bool iless::operator()(std::string_view a, std::string_view b) const {
  auto n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    char x = ascii_lower(a[i]);
    char y = ascii_lower(b[i]);
    if (x != y)
      return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  }
  return a.size() < b.size();
}

bool is_never_writable(std::string_view api_name) {
  static constexpr std::array<std::string_view, 7> names{{"Id", "SystemModstamp", "CreatedDate", "CreatedById",
                                                          "LastModifiedDate", "LastModifiedById", "IsDeleted"}};
  for (auto n : names)
    if (iequals(n, api_name))
      return true;
  return false;
}

bool sf_writable_fields::allows(std::string_view api_name, sf_write_op op) const {
  if (is_never_writable(api_name))
    return false;
  const auto& set = op == sf_write_op::update ? updateable : createable;
  return set.find(api_name) != set.end();
}

sf_writable_fields writable_fields(const std::vector<sf_field_rules>& fields) {
  sf_writable_fields out;
  for (const auto& f : fields) {
    if (f.calculated || is_never_writable(f.name))
      continue;
    if (f.createable)
      out.createable.insert(f.name);
    if (f.updateable)
      out.updateable.insert(f.name);
    if (!f.relationship_name.empty())
      out.relationships.emplace(f.relationship_name, sf_relationship{f.relationship_name, f.name});
  }
  return out;
}

// ---------------------------------------------------------------------------
// records
// ---------------------------------------------------------------------------

namespace {

bool is_row_system_column(std::string_view column) {
  return column == "sfid" || is_hc_system_column(column);
}

/// The relationship and lookup field behind a relationship column's prefix
/// (`Account` of `Account.External_Id__c`).
sf_relationship resolve_relationship(const sf_writable_fields& w, std::string_view rel) {
  if (auto it = w.relationships.find(rel); it != w.relationships.end())
    return it->second;
  std::string custom_rel = std::string{rel} + "__r";
  if (auto it = w.relationships.find(custom_rel); it != w.relationships.end())
    return it->second;
  if (iends_with(rel, "__r"))
    return {std::string{rel}, std::string{rel.substr(0, rel.size() - 3)} + "__c"};
  std::string custom_field = std::string{rel} + "__c";
  if (w.createable.count(custom_field) != 0 || w.updateable.count(custom_field) != 0)
    return {custom_rel, custom_field};
  return {std::string{rel}, std::string{rel} + "Id"};
}

/// One field a row sends.
struct out_field {
  std::size_t order = 0;             ///< the column's index in the spec
  std::string header;                ///< `Email__c`, `Account.External_Id__c`
  std::string relationship;          ///< nested: `Account`; empty otherwise
  std::string leaf;                  ///< nested: `External_Id__c`
  const pg_column* column = nullptr;
  const std::optional<std::string>* value = nullptr;
};

/// The fields a row sends, before value conversion.
struct row_selection {
  std::vector<out_field> fields;
  std::vector<std::string> skipped;
  std::vector<std::string> unknown;
};

row_selection select_fields(const hc_table_spec& spec, const hstore& values, const sf_writable_fields& writable,
                            sf_write_op op) {
  row_selection sel;
  std::vector<std::string> set_by_relationship; // lookup fields set through a relationship
  for (const auto& e : values.entries()) {
    if (is_row_system_column(e.key))
      continue;
    const auto* col = spec.find_column(e.key);
    if (col == nullptr) {
      sel.unknown.push_back(e.key);
      continue;
    }
    out_field f;
    f.order = static_cast<std::size_t>(col - spec.columns.data());
    f.column = col;
    f.value = &e.value;
    auto dot = col->sf_field.find('.');
    if (dot == std::string::npos) {
      if (!writable.allows(col->sf_field, op)) {
        sel.skipped.push_back(e.key);
        continue;
      }
      f.header = col->sf_field;
      sel.fields.push_back(std::move(f));
      continue;
    }
    auto rel = resolve_relationship(writable, std::string_view{col->sf_field}.substr(0, dot));
    if (!writable.allows(rel.lookup_field, op)) {
      sel.skipped.push_back(e.key);
      continue;
    }
    if (!e.value)
      continue; // a NULL reference by external id leaves the lookup as it is
    f.relationship = rel.name;
    f.leaf = col->sf_field.substr(dot + 1);
    f.header = f.relationship + "." + f.leaf;
    set_by_relationship.push_back(rel.lookup_field);
    sel.fields.push_back(std::move(f));
  }
  // Salesforce refuses a lookup set both by id and by external id.
  if (!set_by_relationship.empty()) {
    sel.fields.erase(std::remove_if(sel.fields.begin(), sel.fields.end(),
                                    [&](const out_field& f) {
                                      if (!f.relationship.empty())
                                        return false;
                                      for (const auto& l : set_by_relationship)
                                        if (iequals(l, f.header))
                                          return true;
                                      return false;
                                    }),
                     sel.fields.end());
  }
  return sel;
}

std::string unknown_message(const hc_table_spec& spec, const std::vector<std::string>& unknown) {
  return "columns not in the mapping of " + spec.table + ": " + join(unknown, ", ");
}

} // namespace

sf_record_result build_sf_record(const hc_table_spec& spec, const hstore& values,
                                 const sf_writable_fields& writable, sf_write_op op) {
  sf_record_result out;
  auto sel = select_fields(spec, values, writable, op);
  out.skipped = std::move(sel.skipped);
  out.unknown_columns = std::move(sel.unknown);
  for (const auto& f : sel.fields) {
    auto v = to_sf_json(f.column->kind, *f.value, f.column->name);
    if (!v.ok()) {
      out.bad_values.push_back(std::move(*v.error));
      continue;
    }
    if (f.relationship.empty())
      out.record[f.header] = std::move(v.value);
    else
      out.record[f.relationship][f.leaf] = std::move(v.value);
  }
  std::vector<std::string> problems;
  if (!out.unknown_columns.empty())
    problems.push_back(unknown_message(spec, out.unknown_columns));
  for (const auto& b : out.bad_values)
    problems.push_back(b.to_string());
  out.error = join(problems, "; ");
  return out;
}

sf_csv_result build_sf_csv(const hc_table_spec& spec, const std::vector<const hstore*>& rows,
                           const sf_writable_fields& writable, sf_write_op op, const csv::write_options& options) {
  sf_csv_result out;
  // Header: the union of the fields sent, in spec column order.
  std::map<std::size_t, std::string> header_by_order;
  std::vector<std::vector<std::pair<std::size_t, std::optional<std::string>>>> cells(rows.size());
  api_name_set skipped;
  std::set<std::string> unknown_seen;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r] == nullptr)
      continue;
    auto sel = select_fields(spec, *rows[r], writable, op);
    for (auto& s : sel.skipped)
      if (skipped.insert(s).second)
        out.skipped.push_back(s);
    for (auto& u : sel.unknown)
      if (unknown_seen.insert(u).second)
        out.unknown_columns.push_back(u);
    for (const auto& f : sel.fields) {
      auto v = to_sf_csv(f.column->kind, *f.value, f.column->name);
      if (!v.ok()) {
        out.bad_values.emplace_back(r, std::move(*v.error));
        continue;
      }
      header_by_order.emplace(f.order, f.header);
      cells[r].emplace_back(f.order, std::move(v.text));
    }
  }
  std::vector<std::string> problems;
  if (!out.unknown_columns.empty())
    problems.push_back(unknown_message(spec, out.unknown_columns));
  for (const auto& [r, b] : out.bad_values)
    problems.push_back("row " + std::to_string(r) + ": " + b.to_string());
  if (problems.empty() && header_by_order.empty() && !rows.empty())
    problems.push_back("no field of " + spec.table + " to send");
  out.error = join(problems, "; ");
  if (!out.ok())
    return out;
  if (rows.empty())
    return out;

  csv::writer w{options};
  std::vector<std::size_t> orders;
  for (const auto& [order, name] : header_by_order) {
    orders.push_back(order);
    out.header.push_back(name);
  }
  w.write_row(out.header);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r] == nullptr)
      continue;
    auto& row = cells[r];
    std::sort(row.begin(), row.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    auto cell = row.begin();
    for (auto order : orders) {
      if (cell == row.end() || cell->first != order) {
        w.empty_field(); // not set
        continue;
      }
      w.field_or_null(cell->second);
      ++cell;
    }
    w.end_row();
  }
  out.rows = w.rows() - 1;
  out.csv = w.take();
  return out;
}

// ---------------------------------------------------------------------------
// _hc_err
// ---------------------------------------------------------------------------

std::string hc_error_json(std::string_view op, std::string_view code, std::string_view message,
                          const std::vector<std::string>& fields, std::string_view src) {
  nlohmann::ordered_json j;
  j["op"] = std::string{op};
  if (src.empty())
    src = code.substr(0, 10) == "SYNCFORCE_" ? "SYNCFORCE" : "SFDC";
  j["src"] = std::string{src};
  j["code"] = std::string{code};
  j["msg"] = std::string{message};
  j["fields"] = fields;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// ---------------------------------------------------------------------------
// mapping validation
// ---------------------------------------------------------------------------

bool required_to_insert(const sf_field_rules& field) {
  if (!field.createable || field.nillable || field.defaulted_on_create || field.calculated)
    return false;
  if (iequals(field.type, "boolean"))
    return false; // never nillable, but false when not set
  // Filled by Salesforce: the owner is the running user when not set.
  return !is_never_writable(field.name) && !iequals(field.name, "OwnerId");
}

namespace {

/// Whether a mapping field `<Rel>__r__<Ext>` sets the lookup `field`.
bool mapped_by_relationship(const mapping_config& mapping, const sf_field_rules& field) {
  for (const auto& name : mapping.fields) {
    auto pos = name.find("__r__");
    if (pos == std::string::npos || pos == 0)
      continue;
    std::string rel = name.substr(0, pos);
    if (!field.relationship_name.empty()) {
      if (iequals(rel, field.relationship_name) || iequals(rel + "__r", field.relationship_name))
        return true;
      continue;
    }
    if (iequals(rel + "Id", field.name) || iequals(rel + "__c", field.name))
      return true;
  }
  return false;
}

bool is_mapped(const mapping_config& mapping, const sf_field_rules& field) {
  for (const auto& name : mapping.fields)
    if (iequals(name, field.name))
      return true;
  return mapped_by_relationship(mapping, field);
}

} // namespace

std::vector<std::string> validate_write_mapping(const mapping_config& mapping,
                                                const std::vector<sf_field_rules>& fields) {
  std::vector<std::string> problems;
  if (mapping.access != mapping_access::read_write)
    return problems;
  if (!mapping.upsert_field || mapping.upsert_field->empty()) {
    problems.push_back("read_write mapping of " + mapping.object_name
                       + " needs an upsert_field: a unique External ID field in Salesforce");
  } else {
    const auto& upsert = *mapping.upsert_field;
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const sf_field_rules& f) { return iequals(f.name, upsert); });
    if (it == fields.end())
      problems.push_back("upsert_field " + upsert + " does not exist on " + mapping.object_name);
    else if (!it->external_id || !it->unique)
      problems.push_back("upsert_field " + upsert + " must be a unique External ID field in Salesforce");
  }
  std::vector<std::string> missing;
  for (const auto& f : fields)
    if (required_to_insert(f) && !is_mapped(mapping, f))
      missing.push_back(f.name);
  if (!missing.empty())
    problems.push_back("Fields needed for insertion to Salesforce need to be mapped: " + join(missing, ", "));
  return problems;
}

} // namespace syncforce
