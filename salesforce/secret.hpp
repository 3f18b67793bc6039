#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <utility>

namespace syncforce::salesforce {

/// A password, token or private key. Streaming or formatting it prints `***`;
/// only `reveal()` gives the value, and only code that sends it should call it.
class secret {
public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}

  /// The value itself: call only where it goes on the wire or into a signer.
  const std::string& reveal() const { return value_; }

  bool empty() const { return value_.empty(); }

  friend bool operator==(const secret& a, const secret& b) { return a.value_ == b.value_; }
  friend bool operator!=(const secret& a, const secret& b) { return !(a == b); }

  friend std::ostream& operator<<(std::ostream& os, const secret&) { return os << "***"; }

private:
  std::string value_;
};

} // namespace syncforce::salesforce

/// fmt (and so spdlog) prints a secret as `***`, whatever the format spec.
template <>
struct fmt::formatter<syncforce::salesforce::secret> : fmt::formatter<fmt::string_view> {
  template <class FormatContext>
  auto format(const syncforce::salesforce::secret&, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view("***"), ctx);
  }
};
