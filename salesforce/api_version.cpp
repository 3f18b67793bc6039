#include "salesforce/api_version.hpp"

#include <charconv>

namespace syncforce::salesforce {

std::optional<api_version> api_version::parse(std::string_view text) {
  if (!text.empty() && (text.front() == 'v' || text.front() == 'V'))
    text.remove_prefix(1);
  api_version v;
  v.minor = 0;
  auto dot = text.find('.');
  auto major_text = text.substr(0, dot);
  auto [p, ec] = std::from_chars(major_text.data(), major_text.data() + major_text.size(), v.major);
  if (ec != std::errc{} || p != major_text.data() + major_text.size() || major_text.empty())
    return std::nullopt;
  if (dot != std::string_view::npos) {
    auto minor_text = text.substr(dot + 1);
    auto [q, ec2] = std::from_chars(minor_text.data(), minor_text.data() + minor_text.size(), v.minor);
    if (ec2 != std::errc{} || q != minor_text.data() + minor_text.size() || minor_text.empty())
      return std::nullopt;
  }
  if (v.major < 20 || v.major > 999)
    return std::nullopt;
  return v;
}

std::string api_version::str() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

} // namespace syncforce::salesforce
