#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace syncforce::salesforce {

/// A Salesforce API version such as "60.0"; ordered, and able to say which
/// platform behaviours apply to it (legacy query cursors, Bulk writes).
struct api_version {
  int major = 60;
  int minor = 0;

  /// Parses "60.0", "v60.0" or "60"; nullopt if malformed or below 20.0.
  static std::optional<api_version> parse(std::string_view text);

  /// "60.0"
  std::string str() const;

  /// Before v56 a user may hold at most 10 open query cursors.
  bool legacy_query_cursors() const { return major < 56; }

  /// Heroku Connect writes through Bulk only from v39 on.
  bool supports_bulk_writes() const { return major >= 39; }

  friend bool operator<(const api_version& a, const api_version& b) {
    return a.major != b.major ? a.major < b.major : a.minor < b.minor;
  }
  friend bool operator==(const api_version& a, const api_version& b) {
    return a.major == b.major && a.minor == b.minor;
  }
};

} // namespace syncforce::salesforce
