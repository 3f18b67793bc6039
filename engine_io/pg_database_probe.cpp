#include "engine_io/engine_io.hpp"

#include "store/control_schema.hpp"
#include "store/session.hpp"
#include "sync/logfmt.hpp"

#include <pqxx/pqxx>

namespace syncforce::engine_io {

namespace {

/// Keeps one connection; reconnects and re-migrates after any failure.
class pg_database_probe : public actors::database_probe {
public:
  explicit pg_database_probe(std::string url) : url_(std::move(url)) {
  }

  actors::probe_result check() override {
    actors::probe_result r;
    try {
      if (!conn_ || !conn_->is_open()) {
        conn_ = std::make_unique<pqxx::connection>(url_);
        auto report = store::migrate_control_schema(*conn_);
        version_ = report.to_version;
      } else {
        store::ping(*conn_);
      }
      r.ok = true;
      r.schema_version = version_;
    } catch (const std::exception& e) {
      conn_.reset();
      r.ok = false;
      r.error = redact_url(first_line(e.what()));
    }
    return r;
  }

private:
  static std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
  }

  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
  int version_ = 0;
};

} // namespace

std::unique_ptr<actors::database_probe> make_database_probe(std::string url) {
  return std::make_unique<pg_database_probe>(std::move(url));
}

} // namespace syncforce::engine_io
