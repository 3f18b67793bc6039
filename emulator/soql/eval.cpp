#include "emulator/soql/eval.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "emulator/soql/parser.hpp"

namespace sfemu::soql {

// ---- text helpers -----------------------------------------------------------

namespace {

constexpr char fold(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// `a` compared case-insensitively with `lower` (already folded).
bool equals_folded(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != lower[i])
      return false;
  return true;
}

int compare_folded(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto x = static_cast<unsigned char>(fold(a[i]));
    auto y = static_cast<unsigned char>(fold(b[i]));
    if (x != y)
      return x < y ? -1 : 1;
  }
  if (a.size() == b.size())
    return 0;
  return a.size() < b.size() ? -1 : 1;
}

/// Salesforce id equality: 18-character ids compare case-insensitively, a
/// 15-character id matches the case-sensitive prefix of an 18-character one.
bool id_equals(std::string_view a, std::string_view b) {
  if (a.size() == 18 && b.size() == 18) {
    for (std::size_t i = 0; i < 18; ++i)
      if (fold(a[i]) != fold(b[i]))
        return false;
    return true;
  }
  if (a.size() == 15 && b.size() == 18)
    return a == b.substr(0, 15);
  if (a.size() == 18 && b.size() == 15)
    return a.substr(0, 15) == b;
  return a == b;
}

bool id_equals_fast(std::string_view v, const std::string& c, const std::string& c_lower) {
  if (v.size() == 18 && c.size() == 18)
    return equals_folded(v, c_lower);
  return id_equals(v, c);
}

bool looks_like_id(std::string_view s) {
  if (s.size() != 15 && s.size() != 18)
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

std::size_t utf8_length(unsigned char c) {
  if (c >= 0xF0)
    return 4;
  if (c >= 0xE0)
    return 3;
  if (c >= 0xC0)
    return 2;
  return 1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// Calls f(term) for every ';'-separated, trimmed, non-empty term; stops when f returns true.
template <class F>
bool any_term(std::string_view s, F&& f) {
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(';', start);
    if (end == std::string_view::npos)
      end = s.size();
    auto term = trim(s.substr(start, end - start));
    if (!term.empty() && f(term))
      return true;
    start = end + 1;
  }
  return false;
}

std::vector<std::string> split_terms(std::string_view s) {
  std::vector<std::string> out;
  any_term(s, [&](std::string_view term) {
    auto lower = to_lower(term);
    if (std::find(out.begin(), out.end(), lower) == out.end())
      out.push_back(std::move(lower));
    return false;
  });
  return out;
}

} // namespace

// ---- the compiled program ---------------------------------------------------

namespace detail {

/// How a condition compares: decided once by the field's type.
enum class cmp_class : std::uint8_t { text, id, boolean, number, date, datetime, time, multipicklist };

/// One element of a compiled LIKE pattern.
struct like_elem {
  enum class kind : std::uint8_t { literal, one, any };
  kind type = kind::literal;
  char ch = 0;  ///< folded
};

/// A literal converted to its field's type.
struct constant {
  enum class kind : std::uint8_t { null, boolean, number, text, day, instant, relative };
  kind type = kind::null;
  bool boolean = false;
  bool is_int = false;
  std::int64_t i = 0;  ///< number (if is_int), day, instant, relative n
  double d = 0;
  relative_unit rel = relative_unit::this_;
  date_period period = date_period::day;
  std::string text;        ///< text: as written (ids) ...
  std::string lower;       ///< ... and folded
  std::vector<like_elem> like;
  std::vector<std::vector<std::string>> groups;  ///< multipicklist: folded terms per literal
};

struct cond {
  std::uint32_t field = 0;  ///< index into bound_query::where_fields()
  date_function function = date_function::none;  ///< applied to the value before comparing
  comparison_op op = comparison_op::eq;
  cmp_class cls = cmp_class::text;
  std::vector<constant> values;
  /// Long IN / NOT IN lists on text and ids: folded keys (views into values[].lower)
  /// of every constant that hashes exactly (text; 18-character ids), plus whether a null
  /// is in the list; `rest` indexes the constants that need the linear comparison.
  bool hashed = false;
  bool has_null = false;
  std::unordered_set<std::string_view> keys;
  std::vector<std::uint32_t> rest;
};

/// IN lists at least this long are hashed.
constexpr std::size_t hash_threshold = 8;

struct node {
  expr::kind type = expr::kind::condition;
  std::uint32_t first = 0;  ///< and_/or_/not_: first index in children
  std::uint32_t count = 0;
  std::uint32_t cond = 0;   ///< condition: index in conds
};

struct program {
  bool has_where = false;
  std::uint32_t root = 0;
  std::vector<node> nodes;
  std::vector<std::uint32_t> children;
  std::vector<cond> conds;
};

} // namespace detail

using detail::cmp_class;
using detail::constant;

bound_query::bound_query() = default;
bound_query::bound_query(bound_query&&) noexcept = default;
bound_query& bound_query::operator=(bound_query&&) noexcept = default;
bound_query::~bound_query() = default;

bool bound_query::has_where() const {
  return program_ && program_->has_where;
}

std::string field_handle::path() const {
  std::string out;
  for (const auto& hop : hops) {
    out += hop.relationship;
    out += '.';
  }
  out += field.name;
  return out;
}

// ---- LIKE -------------------------------------------------------------------

namespace {

std::vector<detail::like_elem> compile_like(std::string_view pattern) {
  std::vector<detail::like_elem> out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    detail::like_elem e;
    if (c == '\\' && i + 1 < pattern.size()) {
      e.ch = fold(pattern[++i]);
    } else if (c == '%') {
      if (!out.empty() && out.back().type == detail::like_elem::kind::any)
        continue;
      e.type = detail::like_elem::kind::any;
    } else if (c == '_') {
      e.type = detail::like_elem::kind::one;
    } else {
      e.ch = fold(c);
    }
    out.push_back(e);
  }
  return out;
}

/// Wildcard match with single-star backtracking: O(n*m), no recursion.
bool like_match(std::string_view s, const std::vector<detail::like_elem>& pat) {
  using kind = detail::like_elem::kind;
  std::size_t si = 0, pi = 0;
  std::size_t star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < pat.size() && pat[pi].type == kind::literal && fold(s[si]) == pat[pi].ch) {
      ++si;
      ++pi;
    } else if (pi < pat.size() && pat[pi].type == kind::one) {
      si += std::min(utf8_length(static_cast<unsigned char>(s[si])), s.size() - si);
      ++pi;
    } else if (pi < pat.size() && pat[pi].type == kind::any) {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      mark += std::min(utf8_length(static_cast<unsigned char>(s[mark])), s.size() - mark);
      si = mark;
    } else {
      return false;
    }
  }
  while (pi < pat.size() && pat[pi].type == kind::any)
    ++pi;
  return pi == pat.size();
}

// ---- binding ----------------------------------------------------------------

constexpr std::string_view no_such_column_tail =
  "If you are attempting to use a custom field, be sure to append the '__c' after the custom field "
  "name. Please reference your WSDL or the describe call for the appropriate names.";

constexpr std::string_view relationship_tail =
  "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom "
  "relationship name. Please reference your WSDL or the describe call for the appropriate names.";

constexpr std::string_view type_tail =
  "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
  "Please reference your WSDL or the describe call for the appropriate names.";

class binder {
public:
  binder(const query& q, const schema_view& schema) : q_(q), schema_(schema) {}

  soql_error error(std::string_view code, std::size_t offset, const std::string& text) const {
    return {std::string(code), pointer_message(q_.text, offset, text)};
  }

  result<field_handle> resolve(const field_path& path, const object_info& root) const {
    field_handle h;
    const object_info* obj = &root;
    std::size_t start = 0;
    if (path.parts.size() > 1 && iequals(path.parts[0], root.name())
        && root.find_relationship(path.parts[0]) == nullptr)
      start = 1;  // "Account.Name" FROM Account: the object's own name as a prefix
    const std::size_t at = path.offsets.empty() ? 0 : path.offsets[0];
    for (std::size_t i = start; i + 1 < path.parts.size(); ++i) {
      const field_info* ref = obj->find_relationship(path.parts[i]);
      const object_info* target = nullptr;
      if (ref != nullptr)
        for (const auto& name : ref->reference_to)
          if ((target = schema_.find_object(name)) != nullptr)
            break;
      if (target == nullptr)
        return error(error_code::invalid_field, at,
                     "Didn't understand relationship '" + path.parts[i] + "' in field path. "
                       + std::string(relationship_tail));
      h.hops.push_back({ref->relationship_name, *ref, target->name()});
      obj = target;
    }
    const field_info* f = obj->find_field(path.parts.back());
    if (f == nullptr)
      return error(error_code::invalid_field, at,
                   "No such column '" + path.parts.back() + "' on entity '" + obj->name() + "'. "
                     + std::string(no_such_column_tail));
    h.field = *f;
    return h;
  }

  /// The typed form of `lit` for a condition of class `cls` on `f`, or an error.
  result<constant> convert(const literal& lit, cmp_class cls, comparison_op op, const field_info& f,
                           std::size_t at) const {
    constant c;
    if (lit.type == literal::kind::null)
      return c;
    auto mismatch = [&](std::string_view type, bool quoted) {
      return error(error_code::invalid_field, at,
                   "value of filter criterion for field '" + f.name + "' must be of type " + std::string(type)
                     + (quoted ? " and should be enclosed in quotes" : " and should not be enclosed in quotes"));
    };
    switch (cls) {
      case cmp_class::text:
      case cmp_class::id:
      case cmp_class::multipicklist:
        if (lit.type != literal::kind::string)
          return mismatch("string", true);
        if (cls == cmp_class::id && !lit.text.empty() && !looks_like_id(lit.text) && op != comparison_op::like)
          return error(error_code::invalid_query_filter_operator, at, "invalid ID field: " + lit.text);
        if (cls == cmp_class::id && lit.text.empty())
          return c;  // '' on an id field means null
        c.type = constant::kind::text;
        c.text = lit.text;
        c.lower = to_lower(lit.text);
        if (op == comparison_op::like)
          c.like = compile_like(lit.like_pattern);
        if (cls == cmp_class::multipicklist)
          c.groups.push_back(split_terms(lit.text));
        return c;
      case cmp_class::boolean:
        if (lit.type != literal::kind::boolean)
          return mismatch("boolean", false);
        c.type = constant::kind::boolean;
        c.boolean = lit.boolean;
        return c;
      case cmp_class::number:
        if (lit.type != literal::kind::integer && lit.type != literal::kind::decimal)
          return mismatch(f.type == field_type::integer ? "integer" : f.type == field_type::currency ? "currency" : "double",
                          false);
        c.type = constant::kind::number;
        c.is_int = lit.type == literal::kind::integer;
        c.i = lit.integer;
        c.d = lit.decimal;
        return c;
      case cmp_class::time:
        if (lit.type != literal::kind::time)
          return mismatch("time", false);
        c.type = constant::kind::instant;
        c.i = lit.integer;
        return c;
      case cmp_class::date:
      case cmp_class::datetime: {
        const bool is_date = cls == cmp_class::date;
        if (lit.type == literal::kind::relative) {
          c.type = constant::kind::relative;
          c.rel = lit.relative;
          c.period = lit.period;
          c.i = lit.integer;
          return c;
        }
        if (is_date && lit.type == literal::kind::date) {
          c.type = constant::kind::day;
          c.i = lit.integer;
          return c;
        }
        if (!is_date && lit.type == literal::kind::datetime) {
          c.type = constant::kind::instant;
          c.i = lit.integer;
          return c;
        }
        return mismatch(is_date ? "date" : "dateTime", false);
      }
    }
    return c;
  }

  static std::optional<cmp_class> class_of(field_type t) {
    switch (t) {
      case field_type::id:
      case field_type::reference:
        return cmp_class::id;
      case field_type::multipicklist:
        return cmp_class::multipicklist;
      case field_type::boolean:
        return cmp_class::boolean;
      case field_type::integer:
      case field_type::double_:
      case field_type::currency:
      case field_type::percent:
        return cmp_class::number;
      case field_type::date:
        return cmp_class::date;
      case field_type::datetime:
        return cmp_class::datetime;
      case field_type::time:
        return cmp_class::time;
      case field_type::other:
        return std::nullopt;
      default:
        return cmp_class::text;
    }
  }

  std::optional<soql_error> bind_condition(const condition& c, const object_info& root, std::vector<field_handle>& where_fields,
                                           detail::program& prog, std::uint32_t& out) {
    auto h = resolve(c.field, root);
    if (!h)
      return h.error();
    const std::size_t at = c.field.offsets.empty() ? 0 : c.field.offsets[0];
    const field_info& f = h->field;
    auto cls = class_of(f.type);
    if (!f.filterable || !cls)
      return error(error_code::invalid_field, at, "field '" + f.name + "' can not be filtered in a query call");
    field_info compared = f;  // the field, or what a date function makes of it
    if (c.function != date_function::none) {
      const bool is_date = f.type == field_type::date, is_datetime = f.type == field_type::datetime;
      if ((!is_date && !is_datetime)
          || (is_date && (c.function == date_function::hour_in_day || c.function == date_function::day_only)))
        return error(error_code::invalid_field, at,
                     "Invalid date function: " + c.function_name + "(" + c.field.text() + ") needs a "
                       + (is_date ? "dateTime" : "date or dateTime") + " field");
      compared.type = c.function == date_function::day_only ? field_type::date : field_type::integer;
      cls = class_of(compared.type);
    }
    const bool mp = *cls == cmp_class::multipicklist;
    if ((c.op == comparison_op::includes || c.op == comparison_op::excludes) && !mp)
      return error(error_code::invalid_field, at,
                   "includes or excludes operator only valid on multipicklist field");
    const bool ordering = c.op == comparison_op::lt || c.op == comparison_op::le || c.op == comparison_op::gt
                          || c.op == comparison_op::ge;
    if (mp && (ordering || c.op == comparison_op::like || c.op == comparison_op::in || c.op == comparison_op::not_in))
      return error(error_code::invalid_field, at, "invalid operator on multipicklist field");
    if (*cls == cmp_class::boolean && (ordering || c.op == comparison_op::like))
      return error(error_code::invalid_field, at, "invalid operator on boolean field");
    if (c.op == comparison_op::like && *cls != cmp_class::text)
      return error(error_code::invalid_field, at,
                   "invalid operator on " + std::string(*cls == cmp_class::id ? "id" : to_string(f.type)) + " field");
    detail::cond bc;
    bc.op = c.op;
    bc.cls = *cls;
    bc.function = c.function;
    for (const auto& lit : c.values) {
      auto k = convert(lit, *cls, c.op, compared, at);
      if (!k)
        return k.error();
      if (mp && bc.op != comparison_op::eq && bc.op != comparison_op::ne && !bc.values.empty()
          && k->type == constant::kind::text) {
        // INCLUDES('a;b', 'c'): keep one constant with one term group per literal.
        bc.values.front().groups.push_back(std::move(k->groups.front()));
        continue;
      }
      bc.values.push_back(std::move(*k));
    }
    // One slot per distinct field read by WHERE.
    auto [slot, fresh] = where_index_.emplace(to_lower(h->path()), static_cast<std::uint32_t>(where_fields.size()));
    if (fresh)
      where_fields.push_back(std::move(*h));
    bc.field = slot->second;
    prog.conds.push_back(std::move(bc));
    out = static_cast<std::uint32_t>(prog.conds.size() - 1);
    return std::nullopt;
  }

  std::optional<soql_error> bind_expr(const expr& e, const object_info& root, std::vector<field_handle>& where_fields,
                                      detail::program& prog, std::uint32_t& out) {
    detail::node n;
    n.type = e.type;
    if (e.type == expr::kind::condition) {
      if (auto err = bind_condition(e.cond, root, where_fields, prog, n.cond))
        return err;
    } else {
      std::vector<std::uint32_t> kids;
      for (const auto& child : e.children) {
        std::uint32_t k = 0;
        if (auto err = bind_expr(*child, root, where_fields, prog, k))
          return err;
        kids.push_back(k);
      }
      n.first = static_cast<std::uint32_t>(prog.children.size());
      n.count = static_cast<std::uint32_t>(kids.size());
      prog.children.insert(prog.children.end(), kids.begin(), kids.end());
    }
    prog.nodes.push_back(n);
    out = static_cast<std::uint32_t>(prog.nodes.size() - 1);
    return std::nullopt;
  }

private:
  const query& q_;
  const schema_view& schema_;
  std::unordered_map<std::string, std::uint32_t> where_index_;  ///< folded path -> where_fields index
};

} // namespace

result<bound_query> bind(const query& q, const schema_view& schema) {
  binder b(q, schema);
  const object_info* root = schema.find_object(q.object);
  if (root == nullptr)
    return b.error(error_code::invalid_type, q.object_offset,
                   "sObject type '" + q.object + "' is not supported. " + std::string(type_tail));
  bound_query bq;
  bq.object_ = root->name();
  bq.count_only_ = q.count_only;
  bq.limit_ = q.limit;
  bq.offset_ = q.offset;
  std::unordered_set<std::string> seen;
  for (const auto& path : q.fields) {
    auto h = b.resolve(path, *root);
    if (!h)
      return h.error();
    if (!seen.insert(to_lower(h->path())).second)
      return soql_error{std::string(error_code::malformed_query), "duplicate field selected: " + path.text()};
    bq.fields_.push_back(std::move(*h));
  }
  auto prog = std::make_unique<detail::program>();
  if (q.where) {
    prog->has_where = true;
    if (auto err = b.bind_expr(*q.where, *root, bq.where_fields_, *prog, prog->root))
      return *err;
  }
  for (const auto& key : q.order_by) {
    auto h = b.resolve(key.field, *root);
    if (!h)
      return h.error();
    const auto t = h->field.type;
    if (!h->field.sortable || t == field_type::multipicklist || t == field_type::other)
      return b.error(error_code::invalid_field, key.field.offsets.empty() ? 0 : key.field.offsets[0],
                     "field '" + h->field.name + "' can not be sorted in a query call");
    bq.order_by_.push_back({bq.order_fields_.size(), key.descending, key.nulls_last});
    bq.order_fields_.push_back(std::move(*h));
  }
  // Hash long IN lists now that every constant is in its final place.
  for (auto& c : prog->conds) {
    if ((c.op != comparison_op::in && c.op != comparison_op::not_in) || c.values.size() < detail::hash_threshold
        || (c.cls != cmp_class::text && c.cls != cmp_class::id))
      continue;
    c.hashed = true;
    for (std::uint32_t i = 0; i < c.values.size(); ++i) {
      const auto& k = c.values[i];
      if (k.type == constant::kind::null)
        c.has_null = true;
      else if (c.cls == cmp_class::text || k.text.size() == 18)
        c.keys.insert(k.lower);
      else
        c.rest.push_back(i);
    }
  }
  bq.program_ = std::move(prog);
  return bq;
}

result<bound_query> compile(std::string_view soql, const schema_view& schema) {
  auto q = parse(soql);
  if (!q)
    return q.error();
  return bind(*q, schema);
}

// ---- evaluation -------------------------------------------------------------

namespace {

struct day_range {
  std::int64_t lo;
  std::int64_t hi;
};

/// The index of the period holding day `d` (weeks start on Sunday; 1970-01-01 was a Thursday).
std::int64_t period_of(date_period p, std::int64_t d) {
  if (p == date_period::day)
    return d;
  if (p == date_period::week)
    return floor_div(d + 4, 7);
  const civil_date c = civil_from_days(d);
  switch (p) {
    case date_period::month: return c.year * 12 + (c.month - 1);
    case date_period::quarter: return c.year * 4 + (c.month - 1) / 3;
    default: return c.year;
  }
}

/// The first day of period `i`.
std::int64_t period_start(date_period p, std::int64_t i) {
  switch (p) {
    case date_period::day: return i;
    case date_period::week: return i * 7 - 4;
    case date_period::month: return days_from_civil(floor_div(i, 12), static_cast<unsigned>(i - floor_div(i, 12) * 12) + 1, 1);
    case date_period::quarter:
      return days_from_civil(floor_div(i, 4), static_cast<unsigned>(i - floor_div(i, 4) * 4) * 3 + 1, 1);
    case date_period::year: return days_from_civil(i, 1, 1);
  }
  return i;
}

/// The whole local days a relative date literal covers at ctx.now_ms.
day_range relative_range(const constant& c, const eval_context& ctx) {
  const std::int64_t today = local_day(ctx.now_ms, ctx.tz_offset_minutes);
  const date_period p = c.period;
  const std::int64_t cur = period_of(p, today);
  auto span = [&](std::int64_t first, std::int64_t last) {
    return day_range{period_start(p, first), period_start(p, last + 1) - 1};
  };
  switch (c.rel) {
    case relative_unit::this_: return span(cur, cur);
    case relative_unit::last: return span(cur - 1, cur - 1);
    case relative_unit::next: return span(cur + 1, cur + 1);
    case relative_unit::last_n:
      // LAST_N_DAYS:n includes today; LAST_N_WEEKS/MONTHS/...:n end with the previous period.
      return p == date_period::day ? span(cur - c.i, cur) : span(cur - c.i, cur - 1);
    case relative_unit::next_n: return span(cur + 1, cur + c.i);
    case relative_unit::n_ago: return span(cur - c.i, cur - c.i);
  }
  return span(cur, cur);
}

bool in_range_op(comparison_op op, std::int64_t v, day_range r) {
  switch (op) {
    case comparison_op::eq:
    case comparison_op::in: return v >= r.lo && v <= r.hi;
    case comparison_op::ne:
    case comparison_op::not_in: return !(v >= r.lo && v <= r.hi);
    case comparison_op::lt: return v < r.lo;
    case comparison_op::le: return v <= r.hi;
    case comparison_op::gt: return v > r.hi;
    case comparison_op::ge: return v >= r.lo;
    default: return false;
  }
}

bool ordered_op(comparison_op op, int cmp) {
  switch (op) {
    case comparison_op::eq:
    case comparison_op::in: return cmp == 0;
    case comparison_op::ne:
    case comparison_op::not_in: return cmp != 0;
    case comparison_op::lt: return cmp < 0;
    case comparison_op::le: return cmp <= 0;
    case comparison_op::gt: return cmp > 0;
    case comparison_op::ge: return cmp >= 0;
    default: return false;
  }
}

template <class T>
int three_way(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

/// Doubles in a total order (NaN after every number, equal to itself), so that sorting
/// with compare_for_order() is always a strict weak ordering.
int three_way(double a, double b) {
  const bool an = a != a, bn = b != b;
  if (an || bn)
    return an == bn ? 0 : (an ? 1 : -1);
  return a < b ? -1 : (b < a ? 1 : 0);
}

bool multipicklist_has(std::string_view v, std::string_view lower_term) {
  return any_term(v, [&](std::string_view term) { return equals_folded(term, lower_term); });
}

bool multipicklist_equals(std::string_view v, const std::vector<std::string>& group) {
  for (const auto& term : group)
    if (!multipicklist_has(v, term))
      return false;
  return !any_term(v, [&](std::string_view term) {
    return std::none_of(group.begin(), group.end(), [&](const std::string& g) { return equals_folded(term, g); });
  });
}

/// Compares a non-null value with a non-null constant for ops = != < <= > >= (IN as =).
bool compare_one(const detail::cond& c, comparison_op op, const value& v, const constant& k,
                 const eval_context& ctx) {
  switch (c.cls) {
    case cmp_class::text:
      if (v.kind() != value_kind::string)
        return false;
      if (op == comparison_op::like)
        return like_match(v.as_string(), k.like);
      if (op == comparison_op::eq || op == comparison_op::in)
        return equals_folded(v.as_string(), k.lower);
      if (op == comparison_op::ne || op == comparison_op::not_in)
        return !equals_folded(v.as_string(), k.lower);
      return ordered_op(op, compare_folded(v.as_string(), k.lower));
    case cmp_class::id:
      if (v.kind() != value_kind::string)
        return false;
      if (op == comparison_op::eq || op == comparison_op::in)
        return id_equals_fast(v.as_string(), k.text, k.lower);
      if (op == comparison_op::ne || op == comparison_op::not_in)
        return !id_equals_fast(v.as_string(), k.text, k.lower);
      return ordered_op(op, compare_folded(v.as_string(), k.lower));
    case cmp_class::boolean:
      if (v.kind() != value_kind::boolean)
        return false;
      return ordered_op(op, three_way(v.as_bool(), k.boolean));
    case cmp_class::number:
      if (v.kind() == value_kind::integer && k.is_int)
        return ordered_op(op, three_way(v.as_int(), k.i));
      if (v.kind() != value_kind::integer && v.kind() != value_kind::decimal)
        return false;
      return ordered_op(op, three_way(v.as_number(), k.d));
    case cmp_class::date:
      if (v.kind() != value_kind::date)
        return false;
      if (k.type == constant::kind::relative)
        return in_range_op(op, v.as_int(), relative_range(k, ctx));
      return ordered_op(op, three_way(v.as_int(), k.i));
    case cmp_class::datetime:
      if (v.kind() != value_kind::datetime)
        return false;
      if (k.type == constant::kind::relative)
        return in_range_op(op, local_day(v.as_int(), ctx.tz_offset_minutes), relative_range(k, ctx));
      return ordered_op(op, three_way(v.as_int(), k.i));
    case cmp_class::time:
      if (v.kind() != value_kind::integer)
        return false;
      return ordered_op(op, three_way(v.as_int(), k.i));
    case cmp_class::multipicklist:
      if (v.kind() != value_kind::string || k.groups.empty())
        return false;
      if (op == comparison_op::eq)
        return multipicklist_equals(v.as_string(), k.groups.front());
      if (op == comparison_op::ne)
        return !multipicklist_equals(v.as_string(), k.groups.front());
      return false;
  }
  return false;
}

/// IN over a hashed list: fold the value into a stack buffer (no allocation).
bool in_hashed(const detail::cond& c, const value& v) {
  if (v.is_null())
    return c.has_null;
  if (v.kind() != value_kind::string)
    return false;
  const std::string_view s = v.as_string();
  const bool exact = c.cls == cmp_class::text || s.size() == 18;
  if (exact) {
    char buf[256];
    if (s.size() <= sizeof buf) {
      for (std::size_t i = 0; i < s.size(); ++i)
        buf[i] = fold(s[i]);
      if (c.keys.count(std::string_view(buf, s.size())) != 0)
        return true;
    } else {
      for (const auto& k : c.values)
        if (k.type != constant::kind::null && equals_folded(s, k.lower))
          return true;
    }
    if (c.cls == cmp_class::text)
      return false;
    for (auto i : c.rest)  // 15-character constants against an 18-character value
      if (id_equals(s, c.values[i].text))
        return true;
    return false;
  }
  // A value that is not an 18-character id: compare with every constant.
  for (const auto& k : c.values)
    if (k.type != constant::kind::null && id_equals(s, k.text))
      return true;
  return false;
}

/// A date function of a date or datetime value (datetimes in UTC, as Salesforce without
/// convertTimezone()); null stays null. Weeks start on Sunday (DAY_IN_WEEK: Sunday = 1);
/// WEEK_IN_MONTH/YEAR count 7-day blocks from the 1st of the month/year; the fiscal year is
/// the default one (starting in January), so fiscal periods are calendar periods.
value apply_date_function(date_function fn, const value& v) {
  if (v.kind() != value_kind::date && v.kind() != value_kind::datetime)
    return value::null();
  const bool instant = v.kind() == value_kind::datetime;
  const std::int64_t day = instant ? floor_div(v.as_int(), 86'400'000) : v.as_int();
  const civil_date c = civil_from_days(day);
  const std::int64_t day_of_year = day - days_from_civil(c.year, 1, 1) + 1;
  switch (fn) {
    case date_function::calendar_month:
    case date_function::fiscal_month: return value::integer(c.month);
    case date_function::calendar_quarter:
    case date_function::fiscal_quarter: return value::integer((c.month - 1) / 3 + 1);
    case date_function::calendar_year:
    case date_function::fiscal_year: return value::integer(c.year);
    case date_function::day_in_month: return value::integer(c.day);
    case date_function::day_in_week: return value::integer(day + 4 - floor_div(day + 4, 7) * 7 + 1);  // 1970-01-01: Thursday (5)
    case date_function::day_in_year: return value::integer(day_of_year);
    case date_function::day_only: return value::date(day);
    case date_function::hour_in_day: return value::integer((v.as_int() - day * 86'400'000) / 3'600'000);
    case date_function::week_in_month: return value::integer((c.day - 1) / 7 + 1);
    case date_function::week_in_year: return value::integer((day_of_year - 1) / 7 + 1);
    case date_function::none: break;
  }
  return v;
}

bool eval_cond_value(const detail::cond& c, const value& v, const eval_context& ctx);

bool eval_cond(const detail::cond& c, const value& v, const eval_context& ctx) {
  if (c.function != date_function::none)
    return eval_cond_value(c, apply_date_function(c.function, v), ctx);
  return eval_cond_value(c, v, ctx);
}

bool eval_cond_value(const detail::cond& c, const value& v, const eval_context& ctx) {
  switch (c.op) {
    case comparison_op::in:
    case comparison_op::not_in: {
      if (c.hashed)
        return in_hashed(c, v) == (c.op == comparison_op::in);
      bool found = false;
      for (const auto& k : c.values) {
        if (k.type == constant::kind::null ? v.is_null()
                                           : (!v.is_null() && compare_one(c, comparison_op::eq, v, k, ctx))) {
          found = true;
          break;
        }
      }
      return c.op == comparison_op::in ? found : !found;
    }
    case comparison_op::includes:
    case comparison_op::excludes: {
      bool found = false;
      if (v.kind() == value_kind::string) {
        for (const auto& k : c.values)
          for (const auto& group : k.groups) {
            if (group.empty())
              continue;
            bool all = true;
            for (const auto& term : group)
              if (!multipicklist_has(v.as_string(), term)) {
                all = false;
                break;
              }
            if (all) {
              found = true;
              break;
            }
          }
      }
      return c.op == comparison_op::includes ? found : !found;
    }
    default:
      break;
  }
  const constant& k = c.values.front();
  if (k.type == constant::kind::null) {
    if (c.op == comparison_op::eq)
      return v.is_null();
    if (c.op == comparison_op::ne)
      return !v.is_null();
    return false;
  }
  if (v.is_null())
    return c.op == comparison_op::ne;
  return compare_one(c, c.op, v, k, ctx);
}

bool eval_node(const bound_query& q, const detail::program& p, std::uint32_t index, const record_view& r,
               const eval_context& ctx) {
  const detail::node& n = p.nodes[index];
  switch (n.type) {
    case expr::kind::condition: {
      const detail::cond& c = p.conds[n.cond];
      return eval_cond(c, r.get(q.where_fields()[c.field]), ctx);
    }
    case expr::kind::not_:
      return !eval_node(q, p, p.children[n.first], r, ctx);
    case expr::kind::and_:
      for (std::uint32_t i = 0; i < n.count; ++i)
        if (!eval_node(q, p, p.children[n.first + i], r, ctx))
          return false;
      return true;
    case expr::kind::or_:
      for (std::uint32_t i = 0; i < n.count; ++i)
        if (eval_node(q, p, p.children[n.first + i], r, ctx))
          return true;
      return false;
  }
  return false;
}

} // namespace

bool matches(const bound_query& q, const record_view& record, const eval_context& ctx) {
  if (!q.program_ || !q.program_->has_where)
    return true;
  return eval_node(q, *q.program_, q.program_->root, record, ctx);
}

int compare_values(const value& a, const value& b) {
  const bool a_num = a.kind() == value_kind::integer || a.kind() == value_kind::decimal;
  const bool b_num = b.kind() == value_kind::integer || b.kind() == value_kind::decimal;
  if (a_num && b_num) {
    if (a.kind() == value_kind::integer && b.kind() == value_kind::integer)
      return three_way(a.as_int(), b.as_int());
    return three_way(a.as_number(), b.as_number());
  }
  if (a.kind() != b.kind())
    return three_way(static_cast<int>(a.kind()), static_cast<int>(b.kind()));
  switch (a.kind()) {
    case value_kind::null: return 0;
    case value_kind::boolean: return three_way(a.as_bool(), b.as_bool());
    case value_kind::string: return compare_folded(a.as_string(), b.as_string());
    default: return three_way(a.as_int(), b.as_int());
  }
}

namespace {

int compare_key(const bound_order_key& key, const value& va, const value& vb) {
  if (va.is_null() || vb.is_null()) {
    if (va.is_null() && vb.is_null())
      return 0;
    const bool a_first = va.is_null() != key.nulls_last;
    return a_first ? -1 : 1;
  }
  const int c = compare_values(va, vb);
  return key.descending ? -c : c;
}

} // namespace

void extract_order_keys(const bound_query& q, const record_view& record, value* out) {
  const auto& fields = q.order_fields();
  for (const auto& key : q.order_by())
    *out++ = record.get(fields[key.field]);
}

int compare_order_keys(const bound_query& q, const value* a, const value* b) {
  const auto& keys = q.order_by();
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (int c = compare_key(keys[i], a[i], b[i]); c != 0)
      return c;
  return 0;
}

int compare_for_order(const bound_query& q, const record_view& a, const record_view& b) {
  if (&a == &b)
    return 0;
  const auto& fields = q.order_fields();
  for (const auto& key : q.order_by()) {
    const value va = a.get(fields[key.field]);
    const value vb = b.get(fields[key.field]);
    if (int c = compare_key(key, va, vb); c != 0)
      return c;
  }
  return 0;
}

} // namespace sfemu::soql
