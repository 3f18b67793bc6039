#include "emulator/sessions.hpp"

#include "emulator/ids.hpp"

#include <algorithm>
#include <cctype>

namespace sfemu {

// ---- sessions ---------------------------------------------------------------------------

session session_store::open(const user_info& user, std::int64_t now_ms, std::int64_t lifetime_ms,
                            const std::string& org_id) {
  static constexpr std::string_view alphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";
  std::lock_guard<std::mutex> lock(mutex_);
  session s;
  s.token = org_id.substr(0, 15) + "!AQ";
  for (int i = 0; i < 96; ++i)
    s.token.push_back(alphabet[rng_() % alphabet.size()]);
  s.user_id = user.id;
  s.username = user.username;
  s.issued_ms = now_ms;
  s.expires_ms = now_ms + lifetime_ms;
  sessions_[s.token] = s;
  return s;
}

std::optional<session> session_store::find(const std::string& token, std::int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(token);
  if (it == sessions_.end() || it->second.expires_ms <= now_ms)
    return std::nullopt;
  return it->second;
}

bool session_store::revoke(const std::string& token) {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.erase(token) > 0;
}

void session_store::expire_all() {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.clear();
}

std::size_t session_store::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.size();
}

// ---- cursors ------------------------------------------------------------------------------

bool cursor_store::expired(const cursor& c, std::int64_t now_ms, const limits& l) const {
  if (c.legacy)
    return now_ms - c.last_used_ms >= l.legacy_idle_ms;
  return now_ms - c.created_ms >= l.modern_ttl_ms;
}

void cursor_store::purge(std::int64_t now_ms, const limits& l) {
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    if (expired(*it->second, now_ms, l))
      it = cursors_.erase(it);
    else
      ++it;
  }
}

std::string cursor_store::open(const std::string& user_id, query_run run, bool legacy, std::int64_t now_ms,
                               const limits& l) {
  std::lock_guard<std::mutex> lock(mutex_);
  purge(now_ms, l);
  if (legacy) {
    // release the oldest legacy cursors of this user beyond the limit
    for (;;) {
      std::vector<std::shared_ptr<cursor>> mine;
      for (auto& [id, c] : cursors_)
        if (c->user_id == user_id && c->legacy)
          mine.push_back(c);
      if (static_cast<int>(mine.size()) < l.legacy_limit || mine.empty())
        break;
      auto oldest = std::min_element(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
        return a->created_ms != b->created_ms ? a->created_ms < b->created_ms : a->id < b->id;
      });
      cursors_.erase((*oldest)->id);
    }
  }
  auto c = std::make_shared<cursor>();
  // ids sort by creation (the sequence), so ties in created_ms still evict the oldest
  c->id = ids::make_id("01g", next_++);
  c->user_id = user_id;
  c->run = std::move(run);
  c->legacy = legacy;
  c->created_ms = now_ms;
  c->last_used_ms = now_ms;
  cursors_[c->id] = c;
  return c->id;
}

std::shared_ptr<cursor> cursor_store::find(const std::string& id, const std::string& user_id, std::int64_t now_ms,
                                           const limits& l) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cursors_.find(id);
  if (it == cursors_.end())
    return nullptr;
  if (expired(*it->second, now_ms, l)) {
    cursors_.erase(it);
    return nullptr;
  }
  if (it->second->user_id != user_id)
    return nullptr;
  it->second->last_used_ms = now_ms;
  return it->second;
}

void cursor_store::close(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  cursors_.erase(id);
}

void cursor_store::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  cursors_.clear();
}

std::size_t cursor_store::open_count(const std::string& user_id, std::int64_t now_ms, const limits& l) {
  std::lock_guard<std::mutex> lock(mutex_);
  purge(now_ms, l);
  std::size_t n = 0;
  for (auto& [id, c] : cursors_)
    if (c->user_id == user_id)
      ++n;
  return n;
}

std::size_t cursor_store::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cursors_.size();
}

std::optional<std::pair<std::string, std::size_t>> parse_locator(std::string_view locator) {
  auto dash = locator.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= locator.size())
    return std::nullopt;
  auto id = locator.substr(0, dash);
  auto off = locator.substr(dash + 1);
  if (off.size() > 12)
    return std::nullopt;
  std::size_t offset = 0;
  for (char c : off) {
    if (c < '0' || c > '9')
      return std::nullopt;
    offset = offset * 10 + static_cast<std::size_t>(c - '0');
  }
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      return std::nullopt;
  return std::make_pair(std::string(id), offset);
}

} // namespace sfemu
