#include "engine_io/engine_io.hpp"

#include "store/cluster.hpp"
#include "store/copy_loader.hpp"

namespace syncforce::engine_io {

namespace {

class pg_cluster_store : public actors::cluster_store {
public:
  pg_cluster_store(std::string url, std::string session_name, std::chrono::milliseconds statement_timeout)
    : url_(std::move(url)), session_name_(std::move(session_name)), statement_timeout_(statement_timeout) {}

  std::int64_t join(const store::node_info& node, std::chrono::milliseconds ttl, std::int64_t previous) override {
    return guarded([&](pqxx::connection& c) { return store::join_cluster(c, node, ttl, previous); });
  }
  bool heartbeat(const std::string& node, std::int64_t incarnation, std::chrono::milliseconds ttl) override {
    return guarded([&](pqxx::connection& c) { return store::heartbeat(c, node, ttl, incarnation); });
  }
  void leave(const std::string& node, std::int64_t incarnation) override {
    guarded([&](pqxx::connection& c) {
      store::leave_cluster(c, node, incarnation);
      return 0;
    });
  }
  store::cluster_view read() override {
    return guarded([&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      return store::read_cluster(tx);
    });
  }
  std::optional<std::int64_t> acquire(const std::string& kind, const std::string& key,
                                      const std::string& node, std::int64_t incarnation) override {
    return guarded([&](pqxx::connection& c) { return store::acquire_lease(c, kind, key, node, incarnation); });
  }
  bool release(const std::string& kind, const std::string& key, const std::string& node,
               std::int64_t epoch) override {
    return guarded([&](pqxx::connection& c) { return store::release_lease(c, kind, key, node, epoch); });
  }
  long prune() override {
    return guarded([&](pqxx::connection& c) { return store::prune_leases(c); });
  }

private:
  template <class F>
  auto guarded(F&& f) -> decltype(f(std::declval<pqxx::connection&>())) {
    try {
      if (!conn_ || !conn_->is_open()) {
        conn_ = store::open_engine_connection(url_, session_name_);
        // A heartbeat stuck behind a lock must fail in time, not outlive the lease.
        conn_->set_variable("statement_timeout", "'" + std::to_string(statement_timeout_.count()) + "ms'");
      }
      return f(*conn_);
    } catch (...) {
      conn_.reset(); // the next call opens a fresh session
      throw;
    }
  }

  std::string url_;
  std::string session_name_;
  std::chrono::milliseconds statement_timeout_;
  std::unique_ptr<pqxx::connection> conn_;
};

} // namespace

std::unique_ptr<actors::cluster_store> make_cluster_store(std::string database_url, const std::string& node_name,
                                                          std::chrono::milliseconds statement_timeout) {
  return std::make_unique<pg_cluster_store>(std::move(database_url),
                                            store::node_session_name("syncforce-cluster", node_name),
                                            statement_timeout);
}

} // namespace syncforce::engine_io
