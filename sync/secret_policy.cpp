#include "sync/secret_policy.hpp"

#include <algorithm>
#include <cctype>

namespace syncforce {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Whether `path` is absolute and has no `.`/`..` components nor empty ones.
bool normalized_absolute(const std::string& path) {
  if (path.size() < 2 || path.front() != '/')
    return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    auto part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      return false;
    start = end + 1;
  }
  return true;
}

bool host_matches(const std::string& host, const std::string& port, const std::string& entry_raw) {
  auto entry = lower(entry_raw);
  std::string entry_port;
  // A port in the entry (not for IPv6 literals in brackets, which carry their own colons).
  auto colon = entry.rfind(':');
  if (colon != std::string::npos && entry.find(']') == std::string::npos) {
    entry_port = entry.substr(colon + 1);
    entry = entry.substr(0, colon);
  }
  if (!entry_port.empty() && entry_port != port)
    return false;
  if (entry.rfind("*.", 0) == 0) {
    auto suffix = entry.substr(1); // ".my.salesforce.com"
    return host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return host == entry;
}

} // namespace

bool path_below(const std::string& path, const std::string& dir_raw) {
  std::string dir = dir_raw;
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  return path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

std::optional<std::string> refuse_secret_ref(const std::string& ref, const secret_policy& policy) {
  if (ref.rfind("env:", 0) == 0) {
    auto name = ref.substr(4);
    for (const auto& denied : policy.denied_env)
      if (name == denied)
        return "env:" + name + " is one of the node's own credentials and is never sent anywhere";
    for (const auto& prefix : policy.env_prefixes)
      if (!prefix.empty() && name.size() > prefix.size() && name.rfind(prefix, 0) == 0)
        return std::nullopt;
    return "env:" + name + " is not allowed: this node takes secrets only from environment variables starting with " +
           (policy.env_prefixes.empty() ? "(none configured)" : join_list(policy.env_prefixes, ", ")) +
           " (--secret-env-prefixes)";
  }
  if (ref.rfind("file:", 0) == 0) {
    auto path = ref.substr(5);
    if (!normalized_absolute(path))
      return "file: must be a plain absolute path (no '.', '..' or '//')";
    for (const auto& denied : policy.denied_files)
      if (path == denied)
        return "file:" + path + " is one of the node's own files and is never sent anywhere";
    for (const auto& dir : policy.file_dirs)
      if (path_below(path, dir))
        return std::nullopt;
    return "file:" + path + " is not allowed: this node reads secrets only from files below " +
           (policy.file_dirs.empty() ? "(none configured)" : join_list(policy.file_dirs, ", ")) + " (--secret-dirs)";
  }
  return "must be env:NAME or file:/absolute/path";
}

std::optional<std::string> refuse_login_url(const std::string& login_url, const secret_policy& policy) {
  std::string rest;
  bool https = false;
  auto url = login_url;
  if (lower(url.substr(0, 8)) == "https://") {
    https = true;
    rest = url.substr(8);
  } else if (lower(url.substr(0, 7)) == "http://") {
    rest = url.substr(7);
  } else {
    return "'" + login_url + "' is not an https URL";
  }
  auto authority = rest.substr(0, rest.find('/'));
  if (authority.empty() || authority.find('@') != std::string::npos)
    return "'" + login_url + "' has no plain host";
  std::string host = lower(authority);
  std::string port = https ? "443" : "80";
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string::npos)
      return "'" + login_url + "' has a malformed host";
    if (close + 1 < host.size() && host[close + 1] == ':')
      port = host.substr(close + 2);
    host = host.substr(0, close + 1);
  } else if (auto colon = host.find(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  for (const auto& e : policy.insecure_login_hosts)
    if (host_matches(host, port, e))
      return std::nullopt;
  if (!https)
    return "'" + login_url + "' is plain http: credentials go only over https (a development host such as sfemu "
           "must be named with --insecure-login-hosts)";
  for (const auto& e : policy.login_hosts)
    if (host_matches(host, port, e))
      return std::nullopt;
  return "host " + host + " is not a Salesforce login host this node sends credentials to (" +
         join_list(policy.login_hosts, ", ") + "; add others with --login-hosts)";
}

std::string join_list(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : separator) + item;
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    auto item = text.substr(start, end - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.erase(item.begin());
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())))
      item.pop_back();
    if (!item.empty())
      out.push_back(item);
    start = end + 1;
  }
  return out;
}

std::optional<std::string> refuse_pubsub_endpoint(const std::string& endpoint, const secret_policy& policy) {
  auto parsed = parse_pubsub_endpoint(endpoint);
  if (!parsed)
    return "'" + endpoint + "' is not a Pub/Sub API URL (https://HOST[:PORT], path-less)";
  // The same rule as for login URLs: the hosts a node sends a session to are the operator's list.
  auto confined = policy;
  confined.login_hosts.insert(confined.login_hosts.end(), policy.pubsub_hosts.begin(), policy.pubsub_hosts.end());
  auto url = std::string{parsed->tls ? "https://" : "http://"} + parsed->target;
  if (auto why = refuse_login_url(url, confined))
    return "Pub/Sub endpoint: " + *why;
  return std::nullopt;
}

std::optional<pubsub_endpoint> parse_pubsub_endpoint(const std::string& endpoint) {
  pubsub_endpoint out;
  std::string rest;
  auto low = lower(endpoint);
  if (low.rfind("https://", 0) == 0) {
    rest = endpoint.substr(8);
  } else if (low.rfind("http://", 0) == 0) {
    out.tls = false;
    rest = endpoint.substr(7);
  } else {
    return std::nullopt;
  }
  if (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  if (rest.empty() || rest.find_first_of("/@?# ") != std::string::npos)
    return std::nullopt;
  auto colon = rest.rfind(':');
  bool has_port = colon != std::string::npos && (rest.front() != '[' || rest.find(']') < colon);
  if (has_port) {
    auto port = rest.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoi(port) == 0 || std::stoi(port) > 65535)
      return std::nullopt;
    out.target = rest;
  } else {
    out.target = rest + ":7443";
  }
  return out;
}

} // namespace syncforce
