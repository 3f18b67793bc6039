#include "sync/logfmt.hpp"

#include <regex>

namespace syncforce {

std::string logfmt_value(std::string_view value, bool force_quotes) {
  bool plain = !value.empty() && !force_quotes;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain)
    return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string format_logfmt(const log_event& ev) {
  // addon_id right after the event, as in Heroku Connect's lines (log_event::addon
  // puts it first among the extras).
  std::string line = "event=" + logfmt_value(ev.event, true);
  for (const auto& [k, v] : ev.extra)
    line += " " + k + "=" + logfmt_value(v);
  if (!ev.object_type.empty())
    line += " object_type=" + logfmt_value(ev.object_type);
  if (!ev.object_id.empty())
    line += " object_id=" + logfmt_value(ev.object_id);
  if (!ev.state.empty())
    line += " state=" + logfmt_value(ev.state);
  return line;
}

std::string redact_url(std::string_view url) {
  std::string s(url);
  // scheme://user:password@host
  static const std::regex userinfo(R"(^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]*):[^/@]*@)");
  s = std::regex_replace(s, userinfo, "$1:***@");
  // password=... in key/value strings and URL query parameters
  static const std::regex kv(R"((password\s*=\s*)('[^']*'|[^\s&]*))", std::regex::icase);
  return std::regex_replace(s, kv, "$1***");
}

} // namespace syncforce
