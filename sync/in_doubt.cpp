#include "sync/in_doubt.hpp"

#include "sync/type_mapping.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

namespace syncforce {

namespace {

const nlohmann::json* find_field(const nlohmann::json& record, const std::string& name) {
  if (auto it = record.find(name); it != record.end())
    return &*it;
  for (auto it = record.begin(); it != record.end(); ++it)
    if (iequals(it.key(), name))
      return &*it;
  return nullptr;
}

std::optional<double> number_of(const nlohmann::json& v) {
  if (v.is_number())
    return v.get<double>();
  if (!v.is_string())
    return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty())
    return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end == nullptr || *end != '\0')
    return std::nullopt;
  return d;
}

/// "YYYY-MM-DDTHH:MM:SS" of a datetime text, whatever follows (fraction, zone),
/// when it is in UTC ('Z', +0000, +00:00 or none); nullopt otherwise.
std::optional<std::string> utc_second(const std::string& s) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    std::size_t i = 1;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i])))
      ++i;
    rest = rest.substr(i);
  }
  if (!rest.empty() && rest != "Z" && rest != "+0000" && rest != "+00:00" && rest != "-0000")
    return std::nullopt;
  auto out = s.substr(0, 19);
  out[10] = 'T';
  return out;
}

bool same_value(const nlohmann::json& sent, const nlohmann::json& stored) {
  if (sent.is_null())
    return true; // no value sent: Salesforce may have put its default (a Name, false, a picklist's)
  if (stored.is_null())
    return sent.is_string() && sent.get_ref<const std::string&>().empty();
  if (sent.is_boolean() || stored.is_boolean()) {
    auto as_bool = [](const nlohmann::json& v) -> std::optional<bool> {
      if (v.is_boolean())
        return v.get<bool>();
      if (v.is_string() && (v == "true" || v == "false"))
        return v == "true";
      return std::nullopt;
    };
    auto a = as_bool(sent);
    auto b = as_bool(stored);
    return a && b && *a == *b;
  }
  if (sent.is_number() || stored.is_number()) {
    auto a = number_of(sent);
    auto b = number_of(stored);
    if (!a || !b)
      return false;
    return std::fabs(*a - *b) <= 1e-9 * std::max({1.0, std::fabs(*a), std::fabs(*b)});
  }
  if (sent.is_string() && stored.is_string()) {
    const auto& a = sent.get_ref<const std::string&>();
    const auto& b = stored.get_ref<const std::string&>();
    if (a == b)
      return true;
    auto da = utc_second(a);
    auto db = utc_second(b);
    return da && db && *da == *db;
  }
  return sent == stored;
}

} // namespace

bool carries_values(const nlohmann::json& sent, const nlohmann::json& stored) {
  if (!sent.is_object() || !stored.is_object())
    return false;
  for (auto it = sent.begin(); it != sent.end(); ++it) {
    if (it.key() == "attributes")
      continue;
    const auto* v = find_field(stored, it.key());
    if (v == nullptr)
      continue; // not queried: cannot be held against the match
    if (!same_value(*it, *v))
      return false;
  }
  return true;
}

std::vector<int> match_in_doubt(const std::vector<nlohmann::json>& sent, const std::vector<nlohmann::json>& candidates) {
  std::vector<int> out(sent.size(), -1);
  std::vector<bool> used(candidates.size(), false);
  for (std::size_t i = 0; i < sent.size(); ++i)
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      if (used[c] || !carries_values(sent[i], candidates[c]))
        continue;
      used[c] = true;
      out[i] = static_cast<int>(c);
      break;
    }
  return out;
}

} // namespace syncforce
