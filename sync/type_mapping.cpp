#include "sync/type_mapping.hpp"
#include "sync/calendar.hpp"
#include "sync/value_cleaning.hpp"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <nlohmann/json.hpp>

namespace syncforce {

// ---------------------------------------------------------------------------
// type names
// ---------------------------------------------------------------------------

namespace {

struct type_name {
  sf_field_type type;
  std::string_view name;
};

constexpr std::array<type_name, 26> type_names{{
  {sf_field_type::id, "id"},
  {sf_field_type::reference, "reference"},
  {sf_field_type::string, "string"},
  {sf_field_type::textarea, "textarea"},
  {sf_field_type::picklist, "picklist"},
  {sf_field_type::multipicklist, "multipicklist"},
  {sf_field_type::combobox, "combobox"},
  {sf_field_type::email, "email"},
  {sf_field_type::phone, "phone"},
  {sf_field_type::url, "url"},
  {sf_field_type::encryptedstring, "encryptedstring"},
  {sf_field_type::boolean, "boolean"},
  {sf_field_type::int_, "int"},
  {sf_field_type::long_, "long"},
  {sf_field_type::double_, "double"},
  {sf_field_type::currency, "currency"},
  {sf_field_type::percent, "percent"},
  {sf_field_type::date, "date"},
  {sf_field_type::datetime, "datetime"},
  {sf_field_type::time, "time"},
  {sf_field_type::location, "location"},
  {sf_field_type::address, "address"},
  {sf_field_type::base64, "base64"},
  {sf_field_type::any_type, "anyType"},
  {sf_field_type::json, "json"},
  {sf_field_type::complexvalue, "complexvalue"},
}};


std::string varchar(std::int64_t n) {
  return "character varying(" + std::to_string(n) + ")";
}

} // namespace

std::optional<sf_field_type> parse_sf_field_type(std::string_view name) {
  for (const auto& t : type_names)
    if (iequals(t.name, name))
      return t.type;
  if (iequals(name, "geolocation"))
    return sf_field_type::location;
  return std::nullopt;
}

std::string_view to_string(sf_field_type t) {
  for (const auto& n : type_names)
    if (n.type == t)
      return n.name;
  return "unknown";
}

// ---------------------------------------------------------------------------
// the type table
// ---------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  return true;
}

std::string lowercase_name(std::string_view api_name) {
  std::string out{api_name};
  for (auto& c : out)
    c = ascii_lower(c);
  return out;
}

std::string column_name_for(std::string_view api_name) {
  if (iequals(api_name, "Id"))
    return "sfid";
  return lowercase_name(api_name);
}

bool is_hc_system_column(std::string_view column) {
  return column == "id" || column == "_hc_lastop" || column == "_hc_err";
}

std::string pg_type_for(sf_field_type type, std::int64_t length) {
  switch (type) {
    case sf_field_type::id:
    case sf_field_type::reference:
      return varchar(18);
    case sf_field_type::picklist:
    case sf_field_type::combobox:
      return varchar(255);
    case sf_field_type::multipicklist:
      return varchar(4099);
    case sf_field_type::textarea:
      // Long and rich text areas (describe length > 255) are text; a short
      // text area keeps its length like a string.
      if (length <= 0 || length > 255)
        return "text";
      return varchar(length);
    case sf_field_type::string:
    case sf_field_type::email:
    case sf_field_type::phone:
    case sf_field_type::url:
    case sf_field_type::encryptedstring:
      return varchar(length > 0 ? length : 255);
    case sf_field_type::boolean:
      return "boolean";
    case sf_field_type::int_:
    case sf_field_type::long_:
    case sf_field_type::double_:
    case sf_field_type::currency:
    case sf_field_type::percent:
    case sf_field_type::location:
      return "double precision";
    case sf_field_type::date:
      return "date";
    case sf_field_type::datetime:
      return "timestamp without time zone";
    case sf_field_type::time:
      return "time without time zone";
    case sf_field_type::address:
    case sf_field_type::base64:
    case sf_field_type::any_type:
    case sf_field_type::json:
    case sf_field_type::complexvalue:
      return "text";
  }
  return "text";
}

pg_value_kind value_kind_for(sf_field_type type) {
  switch (type) {
    case sf_field_type::boolean:
      return pg_value_kind::boolean;
    case sf_field_type::int_:
    case sf_field_type::long_:
    case sf_field_type::double_:
    case sf_field_type::currency:
    case sf_field_type::percent:
    case sf_field_type::location:
      return pg_value_kind::double_precision;
    case sf_field_type::date:
      return pg_value_kind::date;
    case sf_field_type::datetime:
      return pg_value_kind::timestamp;
    case sf_field_type::time:
      return pg_value_kind::time;
    default:
      return pg_value_kind::text;
  }
}

namespace {

std::optional<std::int64_t> varchar_length(const std::string& type) {
  static constexpr std::string_view prefix = "character varying(";
  if (type.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  return std::strtoll(type.c_str() + prefix.size(), nullptr, 10);
}

pg_column make_column(std::string name, sf_field_type type, std::int64_t length,
                      std::string sf_field) {
  pg_column c;
  c.name = std::move(name);
  c.type = pg_type_for(type, length);
  c.kind = value_kind_for(type);
  c.sf_field = std::move(sf_field);
  c.max_length = varchar_length(c.type);
  c.sensitive = type == sf_field_type::encryptedstring;
  return c;
}

} // namespace

std::vector<pg_column> columns_for_field(const sf_field_info& field) {
  if (field.type == sf_field_type::address)
    return {};
  if (field.type == sf_field_type::location) {
    // `Loc__c` -> components `Loc__Latitude__s` / `Loc__Longitude__s`.
    std::string base = field.name;
    if (base.size() > 3 && iequals(std::string_view{base}.substr(base.size() - 3), "__c"))
      base.resize(base.size() - 3);
    return {
      make_column(lowercase_name(base) + "__latitude__s", sf_field_type::double_, 0,
                  base + "__Latitude__s"),
      make_column(lowercase_name(base) + "__longitude__s", sf_field_type::double_, 0,
                  base + "__Longitude__s"),
    };
  }
  return {make_column(column_name_for(field.name), field.type, field.length, field.name)};
}

pg_column relationship_column(std::string_view relationship_name, const sf_field_info& parent_field) {
  std::string rel = lowercase_name(relationship_name);
  // `Parent__r` and `Parent` both name the relationship `parent`.
  if (rel.size() > 3 && rel.compare(rel.size() - 3, 3, "__r") == 0)
    rel.resize(rel.size() - 3);
  auto type = parent_field.type == sf_field_type::id ? sf_field_type::reference : parent_field.type;
  std::string sf_field{relationship_name};
  sf_field += ".";
  sf_field += parent_field.name;
  return make_column(rel + "__r__" + lowercase_name(parent_field.name), type, parent_field.length,
                     sf_field);
}

// ---------------------------------------------------------------------------
// table spec
// ---------------------------------------------------------------------------

const pg_column* hc_table_spec::find_column(std::string_view name) const {
  for (const auto& c : columns)
    if (c.name == name)
      return &c;
  return nullptr;
}

table_spec_result make_table_spec(const std::string& schema, const mapping_config& mapping,
                                  const std::vector<sf_field_info>& describe,
                                  bool ucs_basic_collation) {
  table_spec_result result;
  hc_table_spec spec;
  spec.schema = schema;
  spec.table = mapping.table_name();
  spec.object_name = mapping.object_name;
  spec.access = mapping.access;
  spec.ucs_basic_collation = ucs_basic_collation;
  auto find = [&](std::string_view name) -> const sf_field_info* {
    for (const auto& f : describe)
      if (iequals(f.name, name))
        return &f;
    return nullptr;
  };
  auto add = [&](pg_column c) {
    if (spec.find_column(c.name) != nullptr || is_hc_system_column(c.name)) {
      result.errors.push_back(c.sf_field + ": column '" + c.name + "' is already used");
      return;
    }
    spec.columns.push_back(std::move(c));
  };
  // Id first, so sfid exists even if the mapping lists it late.
  add(make_column("sfid", sf_field_type::id, 18, "Id"));
  for (const auto& name : mapping.fields) {
    if (iequals(name, "Id"))
      continue;
    const auto* info = find(name);
    auto rel = name.find("__r__");
    if (rel != std::string::npos && rel > 0) {
      sf_field_info parent{name.substr(rel + 5), sf_field_type::string, 255};
      if (info != nullptr) {
        parent.type = info->type;
        parent.length = info->length;
      }
      // The SOQL name of the relationship: `Parent__r` for a custom lookup
      // `Parent__c`, `Account` for a standard `AccountId`.
      std::string relationship = name.substr(0, rel);
      if (const auto* lookup = find(relationship + "__c"); lookup != nullptr && lookup->type == sf_field_type::reference)
        relationship += "__r";
      add(relationship_column(relationship, parent));
      continue;
    }
    if (info == nullptr) {
      result.errors.push_back(name + ": no such field on " + mapping.object_name);
      continue;
    }
    for (auto& c : columns_for_field(*info))
      add(std::move(c));
  }
  if (mapping.upsert_field) {
    auto column = column_name_for(*mapping.upsert_field);
    if (spec.find_column(column) == nullptr)
      result.errors.push_back(*mapping.upsert_field + ": upsert field is not mapped");
    else
      spec.upsert_column = column;
  }
  for (const auto& idx : mapping.indexes) {
    auto column = column_name_for(idx.field);
    if (const auto* info = find(idx.field); info != nullptr && info->type == sf_field_type::location) {
      auto cols = columns_for_field(*info);
      column = cols.front().name;
    }
    if (column == "sfid" || (column == "systemmodstamp" && !idx.unique))
      continue; // always created
    if (spec.find_column(column) == nullptr) {
      result.errors.push_back(idx.field + ": index on a field that is not mapped");
      continue;
    }
    spec.indexes.push_back(hc_index_spec{column, idx.unique});
  }
  if (!result.errors.empty())
    return result;
  result.spec = std::move(spec);
  return result;
}

// ---------------------------------------------------------------------------
// wire values
// ---------------------------------------------------------------------------

namespace {

pg_value ok_value(std::string text) {
  return pg_value{std::move(text), {}};
}

pg_value bad_value(std::string_view what, std::string_view wire) {
  pg_value v;
  v.error = std::string{what} + ": '" + std::string{wire.substr(0, 64)} + "'";
  return v;
}

using calendar::days_from_civil;
using calendar::digits;

using date_parts = calendar::ymd;
using calendar::read_date;

struct time_parts {
  int hour = 0, minute = 0, second = 0;
  std::string fraction; ///< digits after the dot, trailing zeros removed
};

bool parse_time(std::string_view s, std::size_t& pos, time_parts& out) {
  if (!digits(s, pos, 2, out.hour) || pos + 5 > s.size() || s[pos + 2] != ':'
      || !digits(s, pos + 3, 2, out.minute))
    return false;
  pos += 5;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, out.second))
      return false;
    pos += 3;
  }
  if (out.hour > 23 || out.minute > 59 || out.second > 60)
    return false;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
      ++pos;
    if (pos == start)
      return false;
    out.fraction.assign(s.data() + start, pos - start);
    if (out.fraction.size() > 6)
      out.fraction.resize(6); // PostgreSQL keeps microseconds
    while (!out.fraction.empty() && out.fraction.back() == '0')
      out.fraction.pop_back();
  }
  return true;
}

/// Parses `Z`, `+0000`, `+00:00`, `-0800` into minutes east of UTC.
bool parse_zone(std::string_view s, std::size_t& pos, int& offset_minutes) {
  offset_minutes = 0;
  if (pos == s.size())
    return true;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
    return true;
  }
  if (s[pos] != '+' && s[pos] != '-')
    return false;
  int sign = s[pos] == '-' ? -1 : 1;
  int hh = 0;
  int mm = 0;
  if (!digits(s, pos + 1, 2, hh))
    return false;
  std::size_t p = pos + 3;
  if (p < s.size() && s[p] == ':')
    ++p;
  if (!digits(s, p, 2, mm))
    return false;
  pos = p + 2;
  offset_minutes = sign * (hh * 60 + mm);
  return true;
}

void append_two(std::string& out, int v) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

/// `YYYY-MM-DD` (the year as std::to_string writes it, zero-padded to 4
/// characters) appended to `out`: no temporary strings, the load's top frame
/// once the COPY escaping was cheap.
void append_date(std::string& out, int y, int m, int d) {
  if (y >= 0 && y <= 9999) {
    const char year[4] = {static_cast<char>('0' + y / 1000), static_cast<char>('0' + y / 100 % 10),
                          static_cast<char>('0' + y / 10 % 10), static_cast<char>('0' + y % 10)};
    out.append(year, 4);
  } else {
    std::string year = std::to_string(y);
    while (year.size() < 4)
      year.insert(year.begin(), '0');
    out += year;
  }
  out.push_back('-');
  append_two(out, m);
  out.push_back('-');
  append_two(out, d);
}

void append_time(std::string& out, const time_parts& t) {
  append_two(out, t.hour);
  out.push_back(':');
  append_two(out, t.minute);
  out.push_back(':');
  append_two(out, t.second);
  if (!t.fraction.empty()) {
    out.push_back('.');
    out += t.fraction;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// A Salesforce datetime as PostgreSQL's `timestamp` input (UTC, no zone),
/// appended to `out`; false (out unchanged) when `wire` is not a datetime.
bool append_timestamp(std::string& out, std::string_view wire) {
  std::size_t pos = 0;
  date_parts d;
  if (!read_date(wire, pos, d))
    return false;
  time_parts t;
  int offset = 0;
  if (pos < wire.size()) {
    if (wire[pos] != 'T' && wire[pos] != 't' && wire[pos] != ' ')
      return false;
    ++pos;
    if (!parse_time(wire, pos, t) || !parse_zone(wire, pos, offset) || pos != wire.size())
      return false;
  }
  if (offset != 0) {
    std::int64_t minutes = days_from_civil(d.year, static_cast<unsigned>(d.month),
                                           static_cast<unsigned>(d.day))
                             * 1440
                           + t.hour * 60 + t.minute - offset;
    std::int64_t days = minutes >= 0 ? minutes / 1440 : (minutes - 1439) / 1440;
    std::int64_t rest = minutes - days * 1440;
    const auto c = calendar::civil_from_days(days);
    d.year = static_cast<int>(c.year);
    d.month = static_cast<int>(c.month);
    d.day = static_cast<int>(c.day);
    t.hour = static_cast<int>(rest / 60);
    t.minute = static_cast<int>(rest % 60);
  }
  append_date(out, d.year, d.month, d.day);
  out.push_back(' ');
  append_time(out, t);
  return true;
}

pg_value convert_timestamp(std::string_view wire) {
  std::string out;
  if (!append_timestamp(out, wire))
    return bad_value("not a datetime", wire);
  return ok_value(std::move(out));
}

/// A date as PostgreSQL's input, appended to `out`; false when it is not one.
bool append_date(std::string& out, std::string_view wire) {
  std::size_t pos = 0;
  date_parts d;
  if (!read_date(wire, pos, d) || pos != wire.size())
    return false;
  append_date(out, d.year, d.month, d.day);
  return true;
}

pg_value convert_date(std::string_view wire) {
  std::string out;
  if (!append_date(out, wire))
    return bad_value("not a date", wire);
  return ok_value(std::move(out));
}

pg_value convert_time(std::string_view wire) {
  std::size_t pos = 0;
  time_parts t;
  int offset = 0;
  // Salesforce sends times as `20:49:32.000Z`; the zone is always UTC.
  if (!parse_time(wire, pos, t) || !parse_zone(wire, pos, offset) || pos != wire.size())
    return bad_value("not a time", wire);
  std::string out;
  append_time(out, t);
  return ok_value(std::move(out));
}

/// A plain decimal (`-12.50`, `7`): digits, at most one dot with digits on
/// both sides, an optional leading minus, short enough that it can neither
/// overflow nor underflow to zero. strtod (the load's top frame after the
/// strings were gone) would take it as it is, so it needs no parsing.
bool plain_decimal(std::string_view s) {
  if (s.empty() || s.size() > 300)
    return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  const auto int_start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i;
  if (i == int_start)
    return false;
  if (i == s.size())
    return true;
  if (s[i] != '.')
    return false;
  const auto frac_start = ++i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i;
  return i > frac_start && i == s.size();
}

pg_value convert_double(std::string_view wire) {
  if (plain_decimal(wire))
    return ok_value(std::string{wire});
  std::string s{wire};
  if (s.empty())
    return bad_value("not a number", wire);
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || std::isnan(d) || s[0] == ' ')
    return bad_value("not a number", wire);
  // PostgreSQL refuses what overflows or underflows to zero (it keeps denormals).
  if (std::isinf(d) || (errno == ERANGE && d == 0.0))
    return bad_value("out of range for type double precision", wire);
  for (char c : s)
    if (c == 'x' || c == 'X')
      return bad_value("not a number", wire);
  return ok_value(std::move(s));
}

pg_value convert_boolean(std::string_view wire) {
  if (iequals(wire, "true") || wire == "1")
    return ok_value("t");
  if (iequals(wire, "false") || wire == "0")
    return ok_value("f");
  return bad_value("not a boolean", wire);
}

pg_value convert_integer(std::string_view wire) {
  if (wire.empty())
    return bad_value("not an integer", wire);
  std::size_t i = wire[0] == '-' ? 1 : 0;
  if (i == wire.size())
    return bad_value("not an integer", wire);
  for (; i < wire.size(); ++i)
    if (wire[i] < '0' || wire[i] > '9')
      return bad_value("not an integer", wire);
  return ok_value(std::string{wire});
}

} // namespace

pg_value convert_wire_value(pg_value_kind kind, std::string_view wire, bool is_null) {
  if (is_null)
    return pg_value{};
  if (kind == pg_value_kind::text)
    return ok_value(std::string{wire});
  auto v = trim(wire);
  // An empty non-text value (e.g. a blank number in CSV) is NULL.
  if (v.empty())
    return pg_value{};
  switch (kind) {
    case pg_value_kind::double_precision:
      return convert_double(v);
    case pg_value_kind::boolean:
      return convert_boolean(v);
    case pg_value_kind::date:
      return convert_date(v);
    case pg_value_kind::timestamp:
      return convert_timestamp(v);
    case pg_value_kind::time:
      return convert_time(v);
    case pg_value_kind::integer:
      return convert_integer(v);
    case pg_value_kind::text:
      break;
  }
  return ok_value(std::string{wire});
}

pg_value convert_json_value(pg_value_kind kind, const nlohmann::json& value) {
  if (value.is_null())
    return pg_value{};
  if (value.is_string())
    return convert_wire_value(kind, value.get_ref<const std::string&>());
  if (value.is_boolean()) {
    if (kind == pg_value_kind::boolean || kind == pg_value_kind::text)
      return ok_value(kind == pg_value_kind::boolean ? (value.get<bool>() ? "t" : "f")
                                                     : (value.get<bool>() ? "true" : "false"));
    return bad_value("unexpected boolean", value.dump());
  }
  if (value.is_number()) {
    auto text = value.dump();
    if (kind == pg_value_kind::double_precision || kind == pg_value_kind::text)
      return ok_value(std::move(text));
    if (kind == pg_value_kind::integer && value.is_number_integer())
      return ok_value(std::move(text));
    if (kind == pg_value_kind::boolean && value.is_number_integer())
      return convert_boolean(text);
    return bad_value("unexpected number", text);
  }
  // Objects and arrays (compound values, anyType) keep their JSON text.
  if (kind == pg_value_kind::text)
    return ok_value(value.dump());
  return bad_value("unexpected JSON value", value.dump());
}

void append_copy_field(std::string& line, const std::optional<std::string>& value) {
  if (!value) {
    line.append("\\N");
    return;
  }
  append_copy_text(line, *value);
}

namespace {

/// Whether any byte of `w` is one COPY escapes (backslash, tab, newline, CR).
inline bool has_copy_special(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  auto zero_byte = [&](std::uint64_t x) { return ((x - ones) & ~x & highs) != 0; };
  return zero_byte(w ^ (ones * '\\')) || zero_byte(w ^ (ones * '\t')) || zero_byte(w ^ (ones * '\n')) ||
         zero_byte(w ^ (ones * '\r'));
}

} // namespace

void append_copy_row(std::string& line, const pg_row& row) {
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i > 0)
      line.push_back('\t');
    append_copy_field(line, row[i]);
  }
}

void append_copy_text(std::string& line, std::string_view value) {
  // Runs without a character to escape (nearly every value) are appended in
  // one go: a push_back per character was the node's top frame in a load.
  // The run is found 8 bytes at a time.
  const char* p = value.data();
  const char* const end = p + value.size();
  while (p < end) {
    const char* run = p;
    for (std::uint64_t w; end - p >= 8; p += 8) {
      std::memcpy(&w, p, 8);
      if (has_copy_special(w))
        break;
    }
    while (p < end && *p != '\\' && *p != '\t' && *p != '\n' && *p != '\r')
      ++p;
    line.append(run, static_cast<std::size_t>(p - run));
    if (p == end)
      break;
    switch (*p++) {
      case '\\': line.append("\\\\"); break;
      case '\t': line.append("\\t"); break;
      case '\n': line.append("\\n"); break;
      default: line.append("\\r"); break;
    }
  }
}

// ---------------------------------------------------------------------------
// record conversion
// ---------------------------------------------------------------------------

wire_row_converter::wire_row_converter(const hc_table_spec& spec) {
  for (const auto& c : spec.columns) {
    columns_.push_back(c.name);
    fields_.push_back(c.sf_field);
    kinds_.push_back(c.kind);
    specs_.push_back(c);
  }
}

std::vector<std::string> wire_row_converter::bind_csv_header(const std::vector<std::string>& header) {
  std::vector<std::string> missing;
  csv_index_.assign(fields_.size(), header.size());
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    for (std::size_t k = 0; k < header.size(); ++k) {
      if (iequals(header[k], fields_[i])) {
        csv_index_[i] = k;
        break;
      }
    }
    if (csv_index_[i] == header.size())
      missing.push_back(fields_[i]);
  }
  return missing;
}

bool wire_row_converter::convert_csv(const std::vector<std::string>& record, pg_row& out,
                                     record_problem& problem) const {
  problem = record_problem{};
  out.resize(fields_.size());
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    auto k = i < csv_index_.size() ? csv_index_[i] : record.size();
    if (k >= record.size() || record[k].empty()) {
      out[i].reset();
      continue;
    }
    auto v = convert_wire_value(kinds_[i], record[k]);
    if (v.ok() && !v.text) { // a blank non-text value (spaces only) is NULL
      out[i].reset();
      continue;
    }
    if (!v.ok()) {
      problem.field = fields_[i];
      problem.error = error_without_value(v.error);
      problem.excerpt = value_excerpt(record[k], specs_[i].sensitive);
      return false;
    }
    if (kinds_[i] == pg_value_kind::text)
      problem.cleaned |= clean_text(*v.text);
    if (auto why = refusal(specs_[i], *v.text); !why.empty()) {
      problem.field = fields_[i];
      problem.error = std::move(why);
      problem.excerpt = value_excerpt(*v.text, specs_[i].sensitive);
      return false;
    }
    out[i] = std::move(v.text);
  }
  return true;
}

bool wire_row_converter::append_copy_line(const std::vector<std::string_view>& record, std::string& line,
                                         record_problem& problem) const {
  problem.field.clear();
  problem.error.clear();
  problem.excerpt.clear();
  problem.cleaned = 0;
  const auto start = line.size();
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (i > 0)
      line.push_back('\t');
    auto k = i < csv_index_.size() ? csv_index_[i] : record.size();
    if (k >= record.size() || record[k].empty()) {
      line.append("\\N");
      continue;
    }
    const auto wire = record[k];
    const auto kind = kinds_[i];
    if (kind == pg_value_kind::text) {
      // Texts that need cleaning or that PostgreSQL would refuse are rare:
      // convert_csv handles them (and says why).
      if (text_needs_cleaning(wire) || !refusal(specs_[i], wire).empty())
        return append_copy_line_slowly(record, line, start, problem);
      append_copy_text(line, wire);
      continue;
    }
    if (kind == pg_value_kind::timestamp || kind == pg_value_kind::date) {
      // Written straight into the line: digits, '-', ':', '.' and a space need no escaping.
      const auto v = trim(wire);
      if (v.empty()) {
        line.append("\\N");
        continue;
      }
      const auto at = line.size();
      if (!(kind == pg_value_kind::timestamp ? append_timestamp(line, v) : append_date(line, v)) ||
          !refusal(specs_[i], std::string_view{line}.substr(at)).empty())
        return append_copy_line_slowly(record, line, start, problem);
      continue;
    }
    auto v = convert_wire_value(kind, wire);
    if (!v.ok())
      return append_copy_line_slowly(record, line, start, problem);
    if (!v.text) {
      line.append("\\N");
      continue;
    }
    if (!refusal(specs_[i], *v.text).empty())
      return append_copy_line_slowly(record, line, start, problem);
    append_copy_text(line, *v.text);
  }
  return true;
}

bool wire_row_converter::append_copy_line_slowly(const std::vector<std::string_view>& record, std::string& line,
                                                 std::size_t start, record_problem& problem) const {
  line.resize(start);
  std::vector<std::string> texts(record.begin(), record.end());
  pg_row row;
  if (!convert_csv(texts, row, problem))
    return false;
  append_copy_row(line, row);
  return true;
}

bool wire_row_converter::convert_csv(const std::vector<std::string>& record, pg_row& out,
                                     std::string& error) const {
  out.resize(fields_.size());
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    auto k = i < csv_index_.size() ? csv_index_[i] : record.size();
    if (k >= record.size() || record[k].empty()) {
      out[i].reset();
      continue;
    }
    auto v = convert_wire_value(kinds_[i], record[k]);
    if (!v.ok()) {
      error = fields_[i] + ": " + v.error;
      return false;
    }
    out[i] = std::move(v.text);
  }
  return true;
}

namespace {

/// Looks up `Account.External_Id__c` in a record; exact key first, then any case.
const nlohmann::json* json_field(const nlohmann::json& record, std::string_view path) {
  const nlohmann::json* node = &record;
  while (node != nullptr && node->is_object()) {
    auto dot = path.find('.');
    auto key = path.substr(0, dot);
    const nlohmann::json* next = nullptr;
    auto it = node->find(std::string{key});
    if (it != node->end()) {
      next = &*it;
    } else {
      for (auto j = node->begin(); j != node->end(); ++j) {
        if (iequals(j.key(), key)) {
          next = &*j;
          break;
        }
      }
    }
    if (dot == std::string_view::npos)
      return next;
    node = next;
    path.remove_prefix(dot + 1);
  }
  return nullptr;
}

} // namespace

bool wire_row_converter::convert_json(const nlohmann::json& record, pg_row& out,
                                      std::string& error) const {
  out.resize(fields_.size());
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const auto* value = json_field(record, fields_[i]);
    if (value == nullptr) {
      out[i].reset();
      continue;
    }
    auto v = convert_json_value(kinds_[i], *value);
    if (!v.ok()) {
      error = fields_[i] + ": " + v.error;
      return false;
    }
    out[i] = std::move(v.text);
  }
  return true;
}

} // namespace syncforce
