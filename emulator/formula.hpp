#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sfemu {

// ---- formula values ------------------------------------------------------------

/// A value inside formula evaluation.
struct fvalue {
  enum class kind { null, boolean, number, text, date, datetime };
  kind k = kind::null;
  bool b = false;
  double n = 0;
  std::string s;
  std::int64_t t = 0; ///< days for date, epoch ms for datetime

  static fvalue null() { return {}; }
  static fvalue boolean(bool v) {
    fvalue f;
    f.k = kind::boolean;
    f.b = v;
    return f;
  }
  static fvalue number(double v) {
    fvalue f;
    f.k = kind::number;
    f.n = v;
    return f;
  }
  static fvalue text(std::string v) {
    fvalue f;
    f.k = kind::text;
    f.s = std::move(v);
    return f;
  }
  static fvalue date(std::int64_t days) {
    fvalue f;
    f.k = kind::date;
    f.t = days;
    return f;
  }
  static fvalue datetime(std::int64_t ms) {
    fvalue f;
    f.k = kind::datetime;
    f.t = ms;
    return f;
  }
  bool is_blank() const { return k == kind::null || (k == kind::text && s.empty()); }
  /// Text form (TEXT()).
  std::string to_text() const;
};

/// What a formula reads: field values by path ("Name", "Account.Name") and the time.
class formula_resolver {
public:
  virtual ~formula_resolver() = default;
  virtual fvalue field(const std::vector<std::string>& path) const = 0;
  virtual std::int64_t now_ms() const = 0;
};

// ---- formula -------------------------------------------------------------------------

/// A compiled Salesforce formula: field references (with parent paths), string
/// concatenation `&`, arithmetic, comparisons, `&&`/`||`, and functions such as
/// IF, CASE, AND, OR, NOT, ISBLANK, ISNULL, BLANKVALUE, TEXT, VALUE, UPPER, LOWER,
/// LEN, LEFT, RIGHT, MID, TRIM, CONTAINS, BEGINS, SUBSTITUTE, ROUND, ABS, MAX, MIN,
/// ISPICKVAL, TODAY, NOW.
class formula {
public:
  struct node;
  ~formula();
  formula(formula&&) noexcept;

  /// Parses `text`; on failure returns nullptr and sets `error`.
  static std::unique_ptr<formula> parse(std::string_view text, std::string& error);

  fvalue evaluate(const formula_resolver& r) const;
  /// Every field path the formula reads.
  const std::vector<std::vector<std::string>>& references() const { return refs_; }

private:
  formula();
  std::unique_ptr<node> root_;
  std::vector<std::vector<std::string>> refs_;
};

} // namespace sfemu
