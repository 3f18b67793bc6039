#include "dashboard/http_text.hpp"

namespace syncforce::dashboard {

std::string cookie_value(const std::string& header, const std::string& name) {
  const std::string key = name + "=";
  std::size_t pos = 0;
  while (pos < header.size()) {
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == ';'))
      ++pos;
    auto end = header.find(';', pos);
    auto part = header.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (part.compare(0, key.size(), key) == 0)
      return part.substr(key.size());
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  return {};
}

bool foreign_origin(const std::string& origin, const std::string& host) {
  if (origin.empty())
    return false;
  auto scheme_end = origin.find("://");
  // "null" (a sandboxed frame, a file) or anything without a scheme is foreign.
  if (scheme_end == std::string::npos)
    return true;
  return origin.substr(scheme_end + 3) != host;
}

std::string csv_field(const std::string& value) {
  std::string v = value;
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@'))
    v = "'" + v;
  if (v.find_first_of(",\"\r\n") == std::string::npos)
    return v;
  std::string out = "\"";
  for (char ch : v)
    out += ch == '"' ? std::string{"\"\""} : std::string(1, ch);
  return out + "\"";
}

} // namespace syncforce::dashboard
