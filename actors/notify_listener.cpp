#include "actors/notify_listener.hpp"

#include "actors/atoms.hpp"
#include "actors/log.hpp"

#include <pqxx/pqxx>

namespace syncforce::actors {

namespace {

class receiver : public pqxx::notification_receiver {
public:
  receiver(pqxx::connection_base& c, const std::string& channel, wake_target target)
    : pqxx::notification_receiver(c, channel), target_(std::move(target)) {}
  void operator()(const std::string&, int) override { caf::anon_send(target_, wake_atom::value); }

private:
  wake_target target_;
};

} // namespace

notify_listener::notify_listener(std::string database_url, std::string channel, wake_target target)
  : url_(std::move(database_url)), channel_(std::move(channel)), target_(std::move(target)),
    thread_([this] { run(); }) {}

notify_listener::~notify_listener() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

void notify_listener::run() {
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

} // namespace syncforce::actors
