#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sfemu {

// ---- value -----------------------------------------------------------------

/// One field value of a stored record, kept small (16 bytes): null, boolean,
/// integer, real or string. Dates, datetimes and times are integers (days since
/// the epoch, milliseconds since the epoch, milliseconds of the day); the field's
/// type says which.
class value {
public:
  enum class kind : std::uint8_t { null, boolean, integer, real, string };

  value() noexcept : i_(0), kind_(kind::null) {}
  static value of_bool(bool b) {
    value v;
    v.kind_ = kind::boolean;
    v.b_ = b;
    return v;
  }
  static value of_int(std::int64_t i) {
    value v;
    v.kind_ = kind::integer;
    v.i_ = i;
    return v;
  }
  static value of_real(double d) {
    value v;
    v.kind_ = kind::real;
    v.d_ = d;
    return v;
  }
  static value of_string(std::string_view s) {
    value v;
    v.kind_ = kind::string;
    auto len = static_cast<std::uint32_t>(s.size());
    v.s_ = new char[sizeof(std::uint32_t) + s.size()];
    std::memcpy(v.s_, &len, sizeof(len));
    if (!s.empty())
      std::memcpy(v.s_ + sizeof(len), s.data(), s.size());
    return v;
  }

  /// A string kept once for the whole process (user ids, picklist values): copies
  /// share it and nothing is freed. For values with few distinct texts.
  static value of_atom(std::string_view s);

  value(const value& other) : i_(0), kind_(kind::null) { copy_from(other); }
  value(value&& other) noexcept : i_(other.i_), kind_(other.kind_), atom_(other.atom_) {
    other.kind_ = kind::null;
    other.i_ = 0;
    other.atom_ = false;
  }
  value& operator=(const value& other) {
    if (this != &other) {
      release();
      copy_from(other);
    }
    return *this;
  }
  value& operator=(value&& other) noexcept {
    if (this != &other) {
      release();
      i_ = other.i_;
      kind_ = other.kind_;
      atom_ = other.atom_;
      other.kind_ = kind::null;
      other.i_ = 0;
      other.atom_ = false;
    }
    return *this;
  }
  ~value() { release(); }

  kind type() const { return kind_; }
  bool is_null() const { return kind_ == kind::null; }
  bool as_bool() const { return kind_ == kind::boolean ? b_ : false; }
  std::int64_t as_int() const {
    if (kind_ == kind::integer)
      return i_;
    if (kind_ == kind::real)
      return static_cast<std::int64_t>(d_);
    return 0;
  }
  double as_real() const {
    if (kind_ == kind::real)
      return d_;
    if (kind_ == kind::integer)
      return static_cast<double>(i_);
    return 0.0;
  }
  std::string_view as_string() const {
    if (kind_ != kind::string)
      return {};
    std::uint32_t len;
    std::memcpy(&len, s_, sizeof(len));
    return {s_ + sizeof(len), len};
  }

  bool operator==(const value& other) const {
    if (kind_ != other.kind_)
      return false;
    switch (kind_) {
      case kind::null: return true;
      case kind::boolean: return b_ == other.b_;
      case kind::integer: return i_ == other.i_;
      case kind::real: return d_ == other.d_;
      case kind::string: return as_string() == other.as_string();
    }
    return false;
  }
  bool operator!=(const value& other) const { return !(*this == other); }

private:
  void release() {
    if (kind_ == kind::string && !atom_)
      delete[] s_;
    kind_ = kind::null;
    atom_ = false;
  }
  void copy_from(const value& other) {
    if (other.kind_ == kind::string && !other.atom_) {
      *this = of_string(other.as_string());
      return;
    }
    i_ = other.i_;
    kind_ = other.kind_;
    atom_ = other.atom_;
  }

  union {
    bool b_;
    std::int64_t i_;
    double d_;
    char* s_;
  };
  kind kind_;
  bool atom_ = false;
};

// ---- time helpers ----------------------------------------------------------

/// Milliseconds since the epoch -> "2013-05-20T20:49:32.000+0000" (Salesforce's output form).
std::string format_datetime(std::int64_t epoch_ms);
/// Days since the epoch -> "2024-01-01".
std::string format_date(std::int64_t epoch_days);
/// Milliseconds of the day -> "20:49:32.000Z".
std::string format_time(std::int64_t ms_of_day);
/// ISO 8601 datetime ("2024-01-01T00:00:00Z", "...000+0000", "+01:00", date only) -> epoch ms.
std::optional<std::int64_t> parse_datetime(std::string_view text);
/// "2024-01-01" (optionally followed by a time part, ignored) -> days since the epoch.
std::optional<std::int64_t> parse_date(std::string_view text);
/// "20:49:32", "20:49:32.123Z" -> milliseconds of the day.
std::optional<std::int64_t> parse_time(std::string_view text);

} // namespace sfemu
