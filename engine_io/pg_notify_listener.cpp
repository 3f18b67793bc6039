#include "engine_io/pg_notify_listener.hpp"

#include "actors/atoms.hpp"
#include "actors/log.hpp"

#include <pqxx/pqxx>

namespace syncforce::engine_io {

using actors::log;
using actors::wake_atom;

namespace {

class receiver : public pqxx::notification_receiver {
public:
  receiver(pqxx::connection_base& c, const std::string& channel, actors::wake_target target)
    : pqxx::notification_receiver(c, channel), target_(std::move(target)) {}
  void operator()(const std::string&, int) override { caf::anon_send(target_, wake_atom::value); }

private:
  actors::wake_target target_;
};

} // namespace

pg_notify_listener::pg_notify_listener(std::string database_url, std::string channel, actors::wake_target target)
  : url_(std::move(database_url)), channel_(std::move(channel)), target_(std::move(target)),
    thread_([this] { run(); }) {}

pg_notify_listener::~pg_notify_listener() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

void pg_notify_listener::run() {
  bool reported = false;
  while (!stop_) {
    try {
      pqxx::connection conn(url_);
      receiver r(conn, channel_, target_);
      // Anything captured while we were not listening is picked up by this wake.
      caf::anon_send(target_, wake_atom::value);
      reported = false;
      while (!stop_)
        conn.await_notification(0, 200000);
    } catch (const std::exception& e) {
      if (!reported)
        log(spdlog::level::warn,
            log_event{"Cannot LISTEN for trigger log changes, retrying", "connection", channel_, ""}.with(
              "reason", std::string{e.what()}));
      reported = true;
      // Wait a second before reconnecting, waking often enough to stop promptly.
      for (int i = 0; i < 10 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

actors::listener_factory pg_listeners(std::string database_url) {
  return [url = std::move(database_url)](const std::string& channel,
                                         actors::wake_target target) -> std::unique_ptr<actors::notify_listener> {
    return std::make_unique<pg_notify_listener>(url, channel, std::move(target));
  };
}

} // namespace syncforce::engine_io
