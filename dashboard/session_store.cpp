#include "dashboard/session_store.hpp"

#include "store/dashboard.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pqxx/pqxx>

#include <stdexcept>

namespace syncforce::dashboard {

session_store::session_store(std::string database_url, std::chrono::seconds idle_timeout, std::chrono::seconds max_age,
                             std::string node_name)
  : database_url_(std::move(database_url)),
    idle_timeout_(idle_timeout),
    max_age_(max_age),
    node_name_(std::move(node_name)) {
}

std::string session_store::random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
    throw std::runtime_error("no random bytes from OpenSSL");
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  // 6 bits a character: 32 bytes give 43 characters (256 bits).
  unsigned int acc = 0;
  int bits = 0;
  for (unsigned char ch : raw) {
    acc = (acc << 8) | ch;
    bits += 8;
    while (bits >= 6) {
      out += alphabet[(acc >> (bits - 6)) & 0x3F];
      bits -= 6;
    }
  }
  if (bits > 0)
    out += alphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

std::string session_store::sha256(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(digest), size);
}

opened_session session_store::open(const std::string& token_name) {
  opened_session out{random_token(32), random_token(32)};
  pqxx::connection conn(database_url_);
  pqxx::work tx(conn);
  store::insert_dashboard_session(tx, sha256(out.cookie), token_name, out.csrf_token, idle_timeout_, node_name_);
  tx.commit();
  return out;
}

std::optional<session> session_store::find(const std::string& cookie) {
  if (cookie.empty() || cookie.size() > 128)
    return std::nullopt;
  pqxx::connection conn(database_url_);
  pqxx::work tx(conn);
  auto row = store::touch_dashboard_session(tx, sha256(cookie), idle_timeout_, max_age_);
  tx.commit();
  if (!row)
    return std::nullopt;
  return session{row->token_name, row->csrf_token};
}

void session_store::close(const std::string& cookie) {
  pqxx::connection conn(database_url_);
  pqxx::work tx(conn);
  store::delete_dashboard_session(tx, sha256(cookie));
  tx.commit();
}

long session_store::purge_expired() {
  pqxx::connection conn(database_url_);
  pqxx::work tx(conn);
  auto purged = store::delete_expired_dashboard_sessions(tx);
  tx.commit();
  return purged;
}

} // namespace syncforce::dashboard
