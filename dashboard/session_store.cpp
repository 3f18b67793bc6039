#include "dashboard/session_store.hpp"

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
  tx.exec_params("INSERT INTO syncforce.dashboard_sessions (id_hash, token_name, csrf_token, expires_at, "
                 "created_by_node) VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)",
                 pqxx::binarystring(sha256(out.cookie)), token_name, out.csrf_token,
                 static_cast<double>(idle_timeout_.count()), node_name_);
  tx.commit();
  return out;
}

std::optional<session> session_store::find(const std::string& cookie) {
  if (cookie.empty() || cookie.size() > 128)
    return std::nullopt;
  pqxx::connection conn(database_url_);
  pqxx::work tx(conn);
  auto rows = tx.exec_params(
    "UPDATE syncforce.dashboard_sessions SET last_seen = now(), "
    "expires_at = least(now() + make_interval(secs => $2), created_at + make_interval(secs => $3)) "
    "WHERE id_hash = $1 AND expires_at > now() RETURNING token_name, csrf_token",
    pqxx::binarystring(sha256(cookie)), static_cast<double>(idle_timeout_.count()),
    static_cast<double>(max_age_.count()));
  tx.commit();
  if (rows.empty())
    return std::nullopt;
  return session{rows[0][0].as<std::string>(), rows[0][1].as<std::string>()};
}

void session_store::close(const std::string& cookie) {
  pqxx::connection conn(database_url_);
  pqxx::work tx(conn);
  tx.exec_params("DELETE FROM syncforce.dashboard_sessions WHERE id_hash = $1", pqxx::binarystring(sha256(cookie)));
  tx.commit();
}

long session_store::purge_expired() {
  pqxx::connection conn(database_url_);
  pqxx::work tx(conn);
  auto r = tx.exec0("DELETE FROM syncforce.dashboard_sessions WHERE expires_at <= now()");
  tx.commit();
  return static_cast<long>(r.affected_rows());
}

} // namespace syncforce::dashboard
