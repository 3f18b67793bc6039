#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace syncforce::salesforce {

/// The org's daily API budget as of one response (`Sforce-Limit-Info: api-usage=N/M`).
struct api_usage {
  long used = 0;
  long max = 0;

  long remaining() const { return max > used ? max - used : 0; }
  /// used / max, 0 when max is unknown.
  double fraction_used() const { return max > 0 ? static_cast<double>(used) / static_cast<double>(max) : 0.0; }

  friend bool operator==(const api_usage& a, const api_usage& b) { return a.used == b.used && a.max == b.max; }
};

/// Parses a `Sforce-Limit-Info` header value such as
/// `api-usage=25/15000; per-app-api-usage=17/250(appName=sample-app)`; nullopt
/// when it holds no well-formed `api-usage` entry.
std::optional<api_usage> parse_limit_info(std::string_view header_value);

} // namespace syncforce::salesforce
