#include "emulator/soql/parser.hpp"

#include <array>
#include <utility>

#include "emulator/soql/lexer.hpp"
#include "emulator/soql/schema.hpp"

namespace sfemu::soql {

std::string field_path::text() const {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0)
      out += '.';
    out += parts[i];
  }
  return out;
}

namespace {

/// Words that cannot start a field name. (Object and relationship names such as
/// Order or Group are not keywords here: SOQL's keywords are contextual.)
constexpr std::array<std::string_view, 14> reserved{
  "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE", "IN", "INCLUDES", "EXCLUDES",
};

/// A relative date literal's spelling and meaning.
struct relative_literal {
  std::string_view name;
  relative_unit unit;
  date_period period;
  bool takes_n;      ///< written NAME:n
  std::int64_t n;    ///< fixed n (LAST_90_DAYS) or 1
};

constexpr relative_literal relative_literals[] = {
  {"TODAY", relative_unit::this_, date_period::day, false, 1},
  {"YESTERDAY", relative_unit::last, date_period::day, false, 1},
  {"TOMORROW", relative_unit::next, date_period::day, false, 1},
  {"LAST_90_DAYS", relative_unit::last_n, date_period::day, false, 90},
  {"NEXT_90_DAYS", relative_unit::next_n, date_period::day, false, 90},
  {"LAST_N_DAYS", relative_unit::last_n, date_period::day, true, 1},
  {"NEXT_N_DAYS", relative_unit::next_n, date_period::day, true, 1},
  {"N_DAYS_AGO", relative_unit::n_ago, date_period::day, true, 1},
  {"THIS_WEEK", relative_unit::this_, date_period::week, false, 1},
  {"LAST_WEEK", relative_unit::last, date_period::week, false, 1},
  {"NEXT_WEEK", relative_unit::next, date_period::week, false, 1},
  {"LAST_N_WEEKS", relative_unit::last_n, date_period::week, true, 1},
  {"NEXT_N_WEEKS", relative_unit::next_n, date_period::week, true, 1},
  {"N_WEEKS_AGO", relative_unit::n_ago, date_period::week, true, 1},
  {"THIS_MONTH", relative_unit::this_, date_period::month, false, 1},
  {"LAST_MONTH", relative_unit::last, date_period::month, false, 1},
  {"NEXT_MONTH", relative_unit::next, date_period::month, false, 1},
  {"LAST_N_MONTHS", relative_unit::last_n, date_period::month, true, 1},
  {"NEXT_N_MONTHS", relative_unit::next_n, date_period::month, true, 1},
  {"N_MONTHS_AGO", relative_unit::n_ago, date_period::month, true, 1},
  {"THIS_QUARTER", relative_unit::this_, date_period::quarter, false, 1},
  {"LAST_QUARTER", relative_unit::last, date_period::quarter, false, 1},
  {"NEXT_QUARTER", relative_unit::next, date_period::quarter, false, 1},
  {"LAST_N_QUARTERS", relative_unit::last_n, date_period::quarter, true, 1},
  {"NEXT_N_QUARTERS", relative_unit::next_n, date_period::quarter, true, 1},
  {"N_QUARTERS_AGO", relative_unit::n_ago, date_period::quarter, true, 1},
  {"THIS_YEAR", relative_unit::this_, date_period::year, false, 1},
  {"LAST_YEAR", relative_unit::last, date_period::year, false, 1},
  {"NEXT_YEAR", relative_unit::next, date_period::year, false, 1},
  {"LAST_N_YEARS", relative_unit::last_n, date_period::year, true, 1},
  {"NEXT_N_YEARS", relative_unit::next_n, date_period::year, true, 1},
  {"N_YEARS_AGO", relative_unit::n_ago, date_period::year, true, 1},
  // Fiscal periods: sfemu's org has Salesforce's default (standard) fiscal year, which
  // starts in January, so fiscal quarters and years are the calendar ones.
  {"THIS_FISCAL_QUARTER", relative_unit::this_, date_period::quarter, false, 1},
  {"LAST_FISCAL_QUARTER", relative_unit::last, date_period::quarter, false, 1},
  {"NEXT_FISCAL_QUARTER", relative_unit::next, date_period::quarter, false, 1},
  {"LAST_N_FISCAL_QUARTERS", relative_unit::last_n, date_period::quarter, true, 1},
  {"NEXT_N_FISCAL_QUARTERS", relative_unit::next_n, date_period::quarter, true, 1},
  {"N_FISCAL_QUARTERS_AGO", relative_unit::n_ago, date_period::quarter, true, 1},
  {"THIS_FISCAL_YEAR", relative_unit::this_, date_period::year, false, 1},
  {"LAST_FISCAL_YEAR", relative_unit::last, date_period::year, false, 1},
  {"NEXT_FISCAL_YEAR", relative_unit::next, date_period::year, false, 1},
  {"LAST_N_FISCAL_YEARS", relative_unit::last_n, date_period::year, true, 1},
  {"NEXT_N_FISCAL_YEARS", relative_unit::next_n, date_period::year, true, 1},
  {"N_FISCAL_YEARS_AGO", relative_unit::n_ago, date_period::year, true, 1},
};

constexpr std::pair<std::string_view, date_function> date_functions[] = {
  {"CALENDAR_MONTH", date_function::calendar_month}, {"CALENDAR_QUARTER", date_function::calendar_quarter},
  {"CALENDAR_YEAR", date_function::calendar_year},   {"DAY_IN_MONTH", date_function::day_in_month},
  {"DAY_IN_WEEK", date_function::day_in_week},       {"DAY_IN_YEAR", date_function::day_in_year},
  {"DAY_ONLY", date_function::day_only},             {"FISCAL_MONTH", date_function::fiscal_month},
  {"FISCAL_QUARTER", date_function::fiscal_quarter}, {"FISCAL_YEAR", date_function::fiscal_year},
  {"HOUR_IN_DAY", date_function::hour_in_day},       {"WEEK_IN_MONTH", date_function::week_in_month},
  {"WEEK_IN_YEAR", date_function::week_in_year},
};

date_function find_date_function(std::string_view word) {
  for (const auto& [name, fn] : date_functions)
    if (iequals(name, word))
      return fn;
  return date_function::none;
}

const relative_literal* find_relative(std::string_view word) {
  for (const auto& r : relative_literals)
    if (iequals(r.name, word))
      return &r;
  return nullptr;
}

/// Recursive-descent parser over the token list. Recursion happens only through
/// parentheses and is bounded by parse_limits::max_depth.
class parser {
public:
  parser(std::string_view soql, std::vector<token> tokens, const parse_limits& limits)
    : soql_(soql), tokens_(std::move(tokens)), limits_(limits) {}

  result<query> run() {
    query q;
    q.text = std::string(soql_);
    if (!keyword("SELECT"))
      return unexpected();
    if (is_keyword(peek(), "COUNT") && peek(1).kind == token_kind::lparen) {
      next();
      next();
      if (peek().kind != token_kind::rparen)
        return unexpected();
      next();
      q.count_only = true;
    } else {
      while (true) {
        field_path path;
        if (auto err = parse_path(path))
          return *err;
        q.fields.push_back(std::move(path));
        if (peek().kind != token_kind::comma)
          break;
        next();
      }
    }
    if (!keyword("FROM"))
      return unexpected();
    if (peek().kind != token_kind::identifier)
      return unexpected();
    q.object = std::string(peek().raw);
    q.object_offset = peek().offset;
    next();
    if (keyword("WHERE")) {
      if (auto err = parse_or(q.where, 0))
        return *err;
    }
    if (is_keyword(peek(), "ORDER")) {
      next();
      if (!keyword("BY"))
        return unexpected();
      while (true) {
        order_key key;
        if (auto err = parse_path(key.field))
          return *err;
        if (keyword("ASC")) {
          key.descending = false;
        } else if (keyword("DESC")) {
          key.descending = true;
        }
        key.nulls_last = key.descending;
        if (keyword("NULLS")) {
          if (keyword("FIRST"))
            key.nulls_last = false;
          else if (keyword("LAST"))
            key.nulls_last = true;
          else
            return unexpected();
        }
        q.order_by.push_back(std::move(key));
        if (peek().kind != token_kind::comma)
          break;
        next();
      }
    }
    if (keyword("LIMIT")) {
      if (peek().kind != token_kind::integer || peek().integer < 0)
        return unexpected();
      q.limit = peek().integer;
      next();
    }
    if (is_keyword(peek(), "OFFSET")) {
      next();
      if (peek().kind != token_kind::integer || peek().integer < 0)
        return unexpected();
      if (peek().integer > 2000)
        return soql_error{std::string(error_code::number_outside_valid_range),
                          "Maximum SOQL offset allowed is 2000"};
      q.offset = peek().integer;
      next();
    }
    if (peek().kind != token_kind::end)
      return unexpected();
    return q;
  }

private:
  const token& peek(std::size_t ahead = 0) const {
    std::size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }

  void next() {
    if (pos_ + 1 < tokens_.size())
      ++pos_;
  }

  static bool is_keyword(const token& t, std::string_view word) {
    return t.kind == token_kind::identifier && iequals(t.raw, word);
  }

  static bool is_reserved(const token& t) {
    if (t.kind != token_kind::identifier)
      return false;
    for (auto word : reserved)
      if (iequals(t.raw, word))
        return true;
    return false;
  }

  /// Consumes the keyword if it is next.
  bool keyword(std::string_view word) {
    if (!is_keyword(peek(), word))
      return false;
    next();
    return true;
  }

  soql_error error_at(const token& t, std::string_view text) const {
    return {std::string(error_code::malformed_query), pointer_message(soql_, t.offset, text)};
  }

  soql_error unexpected() const {
    const token& t = peek();
    if (t.kind == token_kind::invalid)
      return {std::string(error_code::malformed_query), t.text};
    if (t.kind == token_kind::end)
      return error_at(t, "unexpected token: <EOF>");
    return error_at(t, "unexpected token: '" + std::string(t.raw) + "'");
  }

  std::optional<soql_error> parse_path(field_path& path) {
    if (peek().kind != token_kind::identifier || is_reserved(peek()))
      return unexpected();
    while (true) {
      if (peek().kind != token_kind::identifier)
        return unexpected();
      path.parts.emplace_back(peek().raw);
      path.offsets.push_back(peek().offset);
      next();
      if (peek().kind != token_kind::dot)
        return std::nullopt;
      next();
    }
  }

  static std::unique_ptr<expr> combine(expr::kind kind, std::unique_ptr<expr> left, std::unique_ptr<expr> right) {
    if (left->type == kind) {
      left->children.push_back(std::move(right));
      return left;
    }
    auto node = std::make_unique<expr>();
    node->type = kind;
    node->children.push_back(std::move(left));
    node->children.push_back(std::move(right));
    return node;
  }

  std::optional<soql_error> parse_or(std::unique_ptr<expr>& out, std::size_t depth) {
    if (auto err = parse_and(out, depth))
      return err;
    while (keyword("OR")) {
      std::unique_ptr<expr> right;
      if (auto err = parse_and(right, depth))
        return err;
      out = combine(expr::kind::or_, std::move(out), std::move(right));
    }
    return std::nullopt;
  }

  std::optional<soql_error> parse_and(std::unique_ptr<expr>& out, std::size_t depth) {
    if (auto err = parse_unary(out, depth))
      return err;
    while (keyword("AND")) {
      std::unique_ptr<expr> right;
      if (auto err = parse_unary(right, depth))
        return err;
      out = combine(expr::kind::and_, std::move(out), std::move(right));
    }
    return std::nullopt;
  }

  std::optional<soql_error> parse_unary(std::unique_ptr<expr>& out, std::size_t depth) {
    std::size_t nots = 0;
    while (is_keyword(peek(), "NOT")) {
      if (depth + nots + 1 > limits_.max_depth)
        return error_at(peek(), "unexpected token: 'NOT'");
      ++nots;
      next();
    }
    if (auto err = parse_primary(out, depth + nots))
      return err;
    for (std::size_t i = 0; i < nots; ++i) {
      auto node = std::make_unique<expr>();
      node->type = expr::kind::not_;
      node->children.push_back(std::move(out));
      out = std::move(node);
    }
    return std::nullopt;
  }

  std::optional<soql_error> parse_primary(std::unique_ptr<expr>& out, std::size_t depth) {
    if (peek().kind == token_kind::lparen) {
      if (depth + 1 > limits_.max_depth)
        return error_at(peek(), "unexpected token: '('");
      next();
      if (auto err = parse_or(out, depth + 1))
        return err;
      if (peek().kind != token_kind::rparen)
        return unexpected();
      next();
      return std::nullopt;
    }
    out = std::make_unique<expr>();
    out->type = expr::kind::condition;
    return parse_condition(out->cond);
  }

  std::optional<soql_error> parse_condition(condition& c) {
    if (peek().kind == token_kind::identifier && peek(1).kind == token_kind::lparen) {
      // CALENDAR_YEAR(CreatedDate) = 2024: a date function around the field.
      c.function = find_date_function(peek().raw);
      if (c.function == date_function::none)
        return unexpected();
      c.function_name = std::string(peek().raw);
      next();
      next();
      if (auto err = parse_path(c.field))
        return err;
      if (peek().kind != token_kind::rparen)
        return unexpected();
      next();
    } else if (auto err = parse_path(c.field)) {
      return err;
    }
    const token& op = peek();
    c.op_offset = op.offset;
    switch (op.kind) {
      case token_kind::eq: c.op = comparison_op::eq; break;
      case token_kind::ne: c.op = comparison_op::ne; break;
      case token_kind::lt: c.op = comparison_op::lt; break;
      case token_kind::le: c.op = comparison_op::le; break;
      case token_kind::gt: c.op = comparison_op::gt; break;
      case token_kind::ge: c.op = comparison_op::ge; break;
      case token_kind::identifier:
        if (is_keyword(op, "LIKE")) {
          c.op = comparison_op::like;
        } else if (is_keyword(op, "IN")) {
          c.op = comparison_op::in;
        } else if (is_keyword(op, "INCLUDES")) {
          c.op = comparison_op::includes;
        } else if (is_keyword(op, "EXCLUDES")) {
          c.op = comparison_op::excludes;
        } else if (is_keyword(op, "NOT") && is_keyword(peek(1), "IN")) {
          c.op = comparison_op::not_in;
          next();
        } else {
          return unexpected();
        }
        break;
      default:
        return unexpected();
    }
    next();
    const bool list = c.op == comparison_op::in || c.op == comparison_op::not_in
                      || c.op == comparison_op::includes || c.op == comparison_op::excludes;
    if (!list) {
      literal lit;
      if (auto err = parse_literal(lit))
        return err;
      c.values.push_back(std::move(lit));
      return std::nullopt;
    }
    if (peek().kind != token_kind::lparen)
      return unexpected();
    next();
    while (true) {
      if (c.values.size() >= limits_.max_in_values)
        return unexpected();
      literal lit;
      if (auto err = parse_literal(lit))
        return err;
      c.values.push_back(std::move(lit));
      if (peek().kind == token_kind::comma) {
        next();
        continue;
      }
      if (peek().kind != token_kind::rparen)
        return unexpected();
      next();
      return std::nullopt;
    }
  }

  std::optional<soql_error> parse_literal(literal& lit) {
    const token& t = peek();
    lit.offset = t.offset;
    lit.text = std::string(t.raw);
    switch (t.kind) {
      case token_kind::string:
        lit.type = literal::kind::string;
        lit.text = t.text;
        lit.like_pattern = t.like;
        next();
        return std::nullopt;
      case token_kind::integer:
        lit.type = literal::kind::integer;
        lit.integer = t.integer;
        lit.decimal = t.decimal;
        next();
        return std::nullopt;
      case token_kind::decimal:
        lit.type = literal::kind::decimal;
        lit.decimal = t.decimal;
        next();
        return std::nullopt;
      case token_kind::date:
        lit.type = literal::kind::date;
        lit.integer = t.integer;
        next();
        return std::nullopt;
      case token_kind::datetime:
        lit.type = literal::kind::datetime;
        lit.integer = t.integer;
        next();
        return std::nullopt;
      case token_kind::time:
        lit.type = literal::kind::time;
        lit.integer = t.integer;
        next();
        return std::nullopt;
      case token_kind::identifier:
        break;
      default:
        return unexpected();
    }
    if (is_keyword(t, "NULL")) {
      lit.type = literal::kind::null;
    } else if (is_keyword(t, "TRUE") || is_keyword(t, "FALSE")) {
      lit.type = literal::kind::boolean;
      lit.boolean = is_keyword(t, "TRUE");
    } else if (const relative_literal* rel = find_relative(t.raw)) {
      lit.type = literal::kind::relative;
      lit.relative = rel->unit;
      lit.period = rel->period;
      lit.integer = rel->n;
      if (rel->takes_n) {
        next();
        if (peek().kind != token_kind::colon)
          return unexpected();
        next();
        // Bounded so that calendar arithmetic can never overflow.
        if (peek().kind != token_kind::integer || peek().integer < 0 || peek().integer > 1'000'000
            || peek().raw.front() == '+' || peek().raw.front() == '-')
          return unexpected();
        lit.integer = peek().integer;
        lit.text = std::string(soql_.substr(t.offset, peek().offset + peek().raw.size() - t.offset));
      }
    } else {
      return unexpected();
    }
    next();
    return std::nullopt;
  }

  std::string_view soql_;
  std::vector<token> tokens_;
  parse_limits limits_;
  std::size_t pos_ = 0;
};

} // namespace

result<query> parse(std::string_view soql, const parse_limits& limits) {
  if (soql.size() > limits.max_length)
    return soql_error{std::string(error_code::malformed_query),
                      "SOQL statements cannot be longer than " + std::to_string(limits.max_length) + " characters."};
  parser p(soql, tokenize_lenient(soql), limits);
  return p.run();
}

} // namespace sfemu::soql
