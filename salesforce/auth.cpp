#include "salesforce/auth.hpp"

namespace syncforce::salesforce {

bool parse_identity_url(const std::string& url, std::string& org_id, std::string& user_id) {
  auto pos = url.find("/id/");
  if (pos == std::string::npos)
    return false;
  auto rest = url.substr(pos + 4);
  auto q = rest.find_first_of("?#");
  if (q != std::string::npos)
    rest.resize(q);
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= rest.size())
    return false;
  auto user = rest.substr(slash + 1);
  while (!user.empty() && user.back() == '/')
    user.pop_back();
  if (user.empty() || user.find('/') != std::string::npos)
    return false;
  org_id = rest.substr(0, slash);
  user_id = user;
  return true;
}

} // namespace syncforce::salesforce
