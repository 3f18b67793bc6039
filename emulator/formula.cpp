#include "emulator/formula.hpp"

#include "emulator/value.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace sfemu {

// ---- fvalue ----------------------------------------------------------------------

std::string fvalue::to_text() const {
  switch (k) {
    case kind::null: return {};
    case kind::boolean: return b ? "true" : "false";
    case kind::number: {
      if (std::floor(n) == n && std::fabs(n) < 1e15) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(n));
        return buf;
      }
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.10g", n);
      return buf;
    }
    case kind::text: return s;
    case kind::date: return format_date(t);
    case kind::datetime: {
      auto d = format_datetime(t); // 2024-01-01T00:00:00.000+0000 -> 2024-01-01 00:00:00Z
      return d.substr(0, 10) + " " + d.substr(11, 8) + "Z";
    }
  }
  return {};
}

// ---- AST -------------------------------------------------------------------------------

struct formula::node {
  enum class type { literal, field, unary, binary, call };
  type t = type::literal;
  fvalue lit;
  std::vector<std::string> path;
  std::string op; ///< operator or function name (upper case)
  std::vector<std::unique_ptr<node>> args;
};

namespace {

using node = formula::node;

struct token {
  enum class type { end, number, text, ident, op, lparen, rparen, comma };
  type t = type::end;
  std::string s;
  double n = 0;
};

class lexer {
public:
  explicit lexer(std::string_view text) : text_(text) {}

  bool next(token& out, std::string& error) {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
    out = token{};
    if (pos_ >= text_.size())
      return true;
    char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos_ + 1 < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
      std::size_t start = pos_;
      while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.'))
        ++pos_;
      out.t = token::type::number;
      out.n = std::strtod(std::string(text_.substr(start, pos_ - start)).c_str(), nullptr);
      return true;
    }
    if (c == '"' || c == '\'') {
      char quote = c;
      ++pos_;
      std::string s;
      while (pos_ < text_.size() && text_[pos_] != quote) {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
          ++pos_;
          char e = text_[pos_];
          s.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        } else {
          s.push_back(text_[pos_]);
        }
        ++pos_;
      }
      if (pos_ >= text_.size()) {
        error = "unterminated string literal";
        return false;
      }
      ++pos_;
      out.t = token::type::text;
      out.s = std::move(s);
      return true;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
      std::size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
              text_[pos_] == '.' || text_[pos_] == '$'))
        ++pos_;
      out.t = token::type::ident;
      out.s = std::string(text_.substr(start, pos_ - start));
      return true;
    }
    ++pos_;
    switch (c) {
      case '(': out.t = token::type::lparen; return true;
      case ')': out.t = token::type::rparen; return true;
      case ',': out.t = token::type::comma; return true;
      default: break;
    }
    out.t = token::type::op;
    out.s = std::string(1, c);
    char n = pos_ < text_.size() ? text_[pos_] : '\0';
    if ((c == '&' && n == '&') || (c == '|' && n == '|') || (c == '=' && n == '=') ||
        (c == '!' && n == '=') || (c == '<' && (n == '=' || n == '>')) || (c == '>' && n == '=')) {
      out.s.push_back(n);
      ++pos_;
    }
    static const std::string ops[] = {"&",  "&&", "||", "=", "==", "!=", "<>", "<", "<=",
                                      ">",  ">=", "+",  "-", "*", "/",  "^",  "!"};
    if (std::find(std::begin(ops), std::end(ops), out.s) == std::end(ops)) {
      error = "unexpected character '" + out.s + "'";
      return false;
    }
    return true;
  }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

class parser {
public:
  parser(std::string_view text, std::vector<std::vector<std::string>>& refs) : lex_(text), refs_(refs) {}

  std::unique_ptr<node> parse(std::string& error) {
    if (!advance())
      return fail(error);
    auto n = parse_or();
    if (!n)
      return fail(error);
    if (cur_.t != token::type::end) {
      error_ = "unexpected token after end of formula";
      return fail(error);
    }
    return n;
  }

private:
  std::unique_ptr<node> fail(std::string& error) {
    error = error_.empty() ? "syntax error" : error_;
    return nullptr;
  }
  bool advance() { return lex_.next(cur_, error_); }
  bool is_op(const char* s) const { return cur_.t == token::type::op && cur_.s == s; }

  std::unique_ptr<node> binary(std::string op, std::unique_ptr<node> l, std::unique_ptr<node> r) {
    auto n = std::make_unique<node>();
    n->t = node::type::binary;
    n->op = std::move(op);
    n->args.push_back(std::move(l));
    n->args.push_back(std::move(r));
    return n;
  }

  std::unique_ptr<node> parse_or() {
    auto l = parse_and();
    while (l && is_op("||")) {
      if (!advance())
        return nullptr;
      auto r = parse_and();
      if (!r)
        return nullptr;
      l = binary("||", std::move(l), std::move(r));
    }
    return l;
  }
  std::unique_ptr<node> parse_and() {
    auto l = parse_cmp();
    while (l && is_op("&&")) {
      if (!advance())
        return nullptr;
      auto r = parse_cmp();
      if (!r)
        return nullptr;
      l = binary("&&", std::move(l), std::move(r));
    }
    return l;
  }
  std::unique_ptr<node> parse_cmp() {
    auto l = parse_add();
    while (l && cur_.t == token::type::op &&
           (cur_.s == "=" || cur_.s == "==" || cur_.s == "!=" || cur_.s == "<>" || cur_.s == "<" ||
            cur_.s == "<=" || cur_.s == ">" || cur_.s == ">=")) {
      std::string op = cur_.s == "==" ? "=" : cur_.s == "<>" ? "!=" : cur_.s;
      if (!advance())
        return nullptr;
      auto r = parse_add();
      if (!r)
        return nullptr;
      l = binary(op, std::move(l), std::move(r));
    }
    return l;
  }
  std::unique_ptr<node> parse_add() {
    auto l = parse_mul();
    while (l && (is_op("+") || is_op("-") || is_op("&"))) {
      std::string op = cur_.s;
      if (!advance())
        return nullptr;
      auto r = parse_mul();
      if (!r)
        return nullptr;
      l = binary(op, std::move(l), std::move(r));
    }
    return l;
  }
  std::unique_ptr<node> parse_mul() {
    auto l = parse_pow();
    while (l && (is_op("*") || is_op("/"))) {
      std::string op = cur_.s;
      if (!advance())
        return nullptr;
      auto r = parse_pow();
      if (!r)
        return nullptr;
      l = binary(op, std::move(l), std::move(r));
    }
    return l;
  }
  std::unique_ptr<node> parse_pow() {
    auto l = parse_unary();
    if (l && is_op("^")) {
      if (!advance())
        return nullptr;
      auto r = parse_pow();
      if (!r)
        return nullptr;
      l = binary("^", std::move(l), std::move(r));
    }
    return l;
  }
  std::unique_ptr<node> parse_unary() {
    if (is_op("-") || is_op("!")) {
      std::string op = cur_.s;
      if (!advance())
        return nullptr;
      auto operand = parse_unary();
      if (!operand)
        return nullptr;
      auto n = std::make_unique<node>();
      n->t = node::type::unary;
      n->op = op;
      n->args.push_back(std::move(operand));
      return n;
    }
    return parse_primary();
  }
  std::unique_ptr<node> parse_primary() {
    auto n = std::make_unique<node>();
    switch (cur_.t) {
      case token::type::number:
        n->lit = fvalue::number(cur_.n);
        return advance() ? std::move(n) : nullptr;
      case token::type::text:
        n->lit = fvalue::text(cur_.s);
        return advance() ? std::move(n) : nullptr;
      case token::type::lparen: {
        if (!advance())
          return nullptr;
        auto inner = parse_or();
        if (!inner)
          return nullptr;
        if (cur_.t != token::type::rparen) {
          error_ = "missing ')'";
          return nullptr;
        }
        return advance() ? std::move(inner) : nullptr;
      }
      case token::type::ident: {
        std::string name = cur_.s;
        if (!advance())
          return nullptr;
        std::string upper = name;
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (cur_.t == token::type::lparen) {
          n->t = node::type::call;
          n->op = upper;
          if (!advance())
            return nullptr;
          if (cur_.t != token::type::rparen) {
            for (;;) {
              auto a = parse_or();
              if (!a)
                return nullptr;
              n->args.push_back(std::move(a));
              if (cur_.t == token::type::comma) {
                if (!advance())
                  return nullptr;
                continue;
              }
              break;
            }
          }
          if (cur_.t != token::type::rparen) {
            error_ = "missing ')' after arguments of " + upper;
            return nullptr;
          }
          if (!known_function(upper)) {
            error_ = "Unknown function " + upper;
            return nullptr;
          }
          return advance() ? std::move(n) : nullptr;
        }
        if (upper == "TRUE" || upper == "FALSE") {
          n->lit = fvalue::boolean(upper == "TRUE");
          return n;
        }
        if (upper == "NULL") {
          n->lit = fvalue::null();
          return n;
        }
        n->t = node::type::field;
        std::size_t start = 0;
        for (;;) {
          auto dot = name.find('.', start);
          n->path.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
          if (dot == std::string::npos)
            break;
          start = dot + 1;
        }
        for (auto& p : n->path)
          if (p.empty()) {
            error_ = "bad field reference " + name;
            return nullptr;
          }
        refs_.push_back(n->path);
        return n;
      }
      default:
        error_ = "unexpected token";
        return nullptr;
    }
  }

  static bool known_function(const std::string& f) {
    static const char* names[] = {"IF", "CASE", "AND", "OR", "NOT", "ISBLANK", "ISNULL", "BLANKVALUE",
                                  "NULLVALUE", "TEXT", "VALUE", "UPPER", "LOWER", "LEN", "LEFT",
                                  "RIGHT", "MID", "TRIM", "CONTAINS", "BEGINS", "SUBSTITUTE", "ROUND",
                                  "ABS", "MAX", "MIN", "ISPICKVAL", "TODAY", "NOW", "FLOOR", "CEILING",
                                  "MOD", "DATEVALUE", "YEAR", "MONTH", "DAY"};
    for (auto* n : names)
      if (f == n)
        return true;
    return false;
  }

  lexer lex_;
  token cur_;
  std::string error_;
  std::vector<std::vector<std::string>>& refs_;
};

bool truthy(const fvalue& v) { return v.k == fvalue::kind::boolean && v.b; }

double num(const fvalue& v) {
  switch (v.k) {
    case fvalue::kind::number: return v.n;
    case fvalue::kind::boolean: return v.b ? 1 : 0;
    case fvalue::kind::text: return std::strtod(v.s.c_str(), nullptr);
    case fvalue::kind::date:
    case fvalue::kind::datetime: return static_cast<double>(v.t);
    default: return 0;
  }
}

int compare(const fvalue& a, const fvalue& b) {
  if ((a.k == fvalue::kind::number || a.k == fvalue::kind::date || a.k == fvalue::kind::datetime) &&
      b.k != fvalue::kind::text) {
    double x = num(a), y = num(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.k == fvalue::kind::boolean && b.k == fvalue::kind::boolean)
    return static_cast<int>(a.b) - static_cast<int>(b.b);
  std::string x = a.to_text(), y = b.to_text();
  return x < y ? -1 : x > y ? 1 : 0;
}

std::string upper_str(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

fvalue eval(const node& n, const formula_resolver& r);

fvalue eval_call(const node& n, const formula_resolver& r) {
  const auto& f = n.op;
  auto arg = [&](std::size_t i) { return i < n.args.size() ? eval(*n.args[i], r) : fvalue::null(); };
  auto argc = n.args.size();
  if (f == "IF")
    return truthy(arg(0)) ? arg(1) : arg(2);
  if (f == "CASE") {
    if (argc == 0)
      return {};
    auto x = arg(0);
    std::size_t i = 1;
    for (; i + 1 < argc; i += 2)
      if (compare(x, arg(i)) == 0)
        return arg(i + 1);
    return i < argc ? arg(i) : fvalue::null();
  }
  if (f == "AND") {
    for (std::size_t i = 0; i < argc; ++i)
      if (!truthy(arg(i)))
        return fvalue::boolean(false);
    return fvalue::boolean(true);
  }
  if (f == "OR") {
    for (std::size_t i = 0; i < argc; ++i)
      if (truthy(arg(i)))
        return fvalue::boolean(true);
    return fvalue::boolean(false);
  }
  if (f == "NOT")
    return fvalue::boolean(!truthy(arg(0)));
  if (f == "ISBLANK" || f == "ISNULL")
    return fvalue::boolean(arg(0).is_blank());
  if (f == "BLANKVALUE" || f == "NULLVALUE") {
    auto v = arg(0);
    return v.is_blank() ? arg(1) : v;
  }
  if (f == "TEXT") {
    auto v = arg(0);
    return v.k == fvalue::kind::null ? fvalue::text("") : fvalue::text(v.to_text());
  }
  if (f == "VALUE") {
    auto v = arg(0);
    if (v.is_blank())
      return {};
    char* end = nullptr;
    double d = std::strtod(v.to_text().c_str(), &end);
    return fvalue::number(d);
  }
  if (f == "UPPER")
    return fvalue::text(upper_str(arg(0).to_text()));
  if (f == "LOWER") {
    auto s = arg(0).to_text();
    for (auto& c : s)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return fvalue::text(s);
  }
  if (f == "LEN")
    return fvalue::number(static_cast<double>(arg(0).to_text().size()));
  if (f == "LEFT" || f == "RIGHT") {
    auto s = arg(0).to_text();
    auto k = static_cast<std::size_t>(std::max(0.0, num(arg(1))));
    k = std::min(k, s.size());
    return fvalue::text(f == "LEFT" ? s.substr(0, k) : s.substr(s.size() - k));
  }
  if (f == "MID") {
    auto s = arg(0).to_text();
    auto start = static_cast<std::size_t>(std::max(1.0, num(arg(1)))) - 1;
    auto k = static_cast<std::size_t>(std::max(0.0, num(arg(2))));
    return fvalue::text(start >= s.size() ? "" : s.substr(start, k));
  }
  if (f == "TRIM") {
    auto s = arg(0).to_text();
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos)
      return fvalue::text("");
    auto e = s.find_last_not_of(" \t\r\n");
    return fvalue::text(s.substr(b, e - b + 1));
  }
  if (f == "CONTAINS")
    return fvalue::boolean(arg(0).to_text().find(arg(1).to_text()) != std::string::npos);
  if (f == "BEGINS")
    return fvalue::boolean(arg(0).to_text().rfind(arg(1).to_text(), 0) == 0);
  if (f == "SUBSTITUTE") {
    auto s = arg(0).to_text();
    auto from = arg(1).to_text();
    auto to = arg(2).to_text();
    if (from.empty())
      return fvalue::text(s);
    std::string out;
    std::size_t pos = 0;
    for (;;) {
      auto hit = s.find(from, pos);
      if (hit == std::string::npos)
        break;
      out += s.substr(pos, hit - pos) + to;
      pos = hit + from.size();
    }
    out += s.substr(pos);
    return fvalue::text(out);
  }
  if (f == "ROUND") {
    auto v = arg(0);
    if (v.k == fvalue::kind::null)
      return {};
    double scale = std::pow(10.0, num(arg(1)));
    return fvalue::number(std::round(num(v) * scale) / scale);
  }
  if (f == "FLOOR")
    return fvalue::number(std::floor(num(arg(0))));
  if (f == "CEILING")
    return fvalue::number(std::ceil(num(arg(0))));
  if (f == "MOD") {
    double d = num(arg(1));
    return d == 0 ? fvalue::null() : fvalue::number(std::fmod(num(arg(0)), d));
  }
  if (f == "ABS")
    return fvalue::number(std::fabs(num(arg(0))));
  if (f == "MAX" || f == "MIN") {
    if (argc == 0)
      return {};
    double best = num(arg(0));
    for (std::size_t i = 1; i < argc; ++i)
      best = f == "MAX" ? std::max(best, num(arg(i))) : std::min(best, num(arg(i)));
    return fvalue::number(best);
  }
  if (f == "ISPICKVAL")
    return fvalue::boolean(arg(0).to_text() == arg(1).to_text());
  if (f == "TODAY") {
    auto ms = r.now_ms();
    return fvalue::date(ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000);
  }
  if (f == "NOW")
    return fvalue::datetime(r.now_ms());
  if (f == "DATEVALUE") {
    auto v = arg(0);
    if (v.k == fvalue::kind::datetime)
      return fvalue::date(v.t >= 0 ? v.t / 86400000 : (v.t - 86399999) / 86400000);
    if (auto d = parse_date(v.to_text()))
      return fvalue::date(*d);
    return {};
  }
  if (f == "YEAR" || f == "MONTH" || f == "DAY") {
    auto v = arg(0);
    if (v.k != fvalue::kind::date)
      return {};
    auto text = format_date(v.t);
    int y = std::atoi(text.substr(0, 4).c_str()), m = std::atoi(text.substr(5, 2).c_str()),
        d = std::atoi(text.substr(8, 2).c_str());
    return fvalue::number(f == "YEAR" ? y : f == "MONTH" ? m : d);
  }
  return {};
}

fvalue eval(const node& n, const formula_resolver& r) {
  switch (n.t) {
    case node::type::literal: return n.lit;
    case node::type::field: return r.field(n.path);
    case node::type::call: return eval_call(n, r);
    case node::type::unary: {
      auto v = eval(*n.args[0], r);
      if (n.op == "!")
        return fvalue::boolean(!truthy(v));
      if (v.k == fvalue::kind::null)
        return v;
      return fvalue::number(-num(v));
    }
    case node::type::binary: {
      const auto& op = n.op;
      if (op == "&&") {
        return fvalue::boolean(truthy(eval(*n.args[0], r)) && truthy(eval(*n.args[1], r)));
      }
      if (op == "||") {
        return fvalue::boolean(truthy(eval(*n.args[0], r)) || truthy(eval(*n.args[1], r)));
      }
      auto a = eval(*n.args[0], r);
      auto b = eval(*n.args[1], r);
      if (op == "&")
        return fvalue::text(a.to_text() + b.to_text());
      if (op == "+" && (a.k == fvalue::kind::text || b.k == fvalue::kind::text))
        return fvalue::text(a.to_text() + b.to_text());
      if (op == "=" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
        if (a.k == fvalue::kind::null || b.k == fvalue::kind::null) {
          bool eq = a.is_blank() && b.is_blank();
          if (op == "=")
            return fvalue::boolean(eq);
          if (op == "!=")
            return fvalue::boolean(!eq);
          return fvalue::boolean(false);
        }
        int c = compare(a, b);
        bool res = op == "=" ? c == 0 : op == "!=" ? c != 0 : op == "<" ? c < 0 : op == "<=" ? c <= 0
                 : op == ">" ? c > 0 : c >= 0;
        return fvalue::boolean(res);
      }
      if (a.k == fvalue::kind::null || b.k == fvalue::kind::null)
        return {};
      if ((a.k == fvalue::kind::date || a.k == fvalue::kind::datetime) && (op == "+" || op == "-") &&
          b.k == fvalue::kind::number) {
        fvalue out = a;
        std::int64_t delta = a.k == fvalue::kind::date ? static_cast<std::int64_t>(b.n)
                                                       : static_cast<std::int64_t>(b.n * 86400000.0);
        out.t += op == "+" ? delta : -delta;
        return out;
      }
      double x = num(a), y = num(b);
      if (op == "+")
        return fvalue::number(x + y);
      if (op == "-")
        return fvalue::number(x - y);
      if (op == "*")
        return fvalue::number(x * y);
      if (op == "/")
        return y == 0 ? fvalue::null() : fvalue::number(x / y);
      if (op == "^")
        return fvalue::number(std::pow(x, y));
      return {};
    }
  }
  return {};
}

} // namespace

formula::formula() = default;
formula::~formula() = default;
formula::formula(formula&&) noexcept = default;

std::unique_ptr<formula> formula::parse(std::string_view text, std::string& error) {
  std::unique_ptr<formula> f(new formula());
  parser p(text, f->refs_);
  f->root_ = p.parse(error);
  if (!f->root_)
    return nullptr;
  return f;
}

fvalue formula::evaluate(const formula_resolver& r) const { return eval(*root_, r); }

} // namespace sfemu
