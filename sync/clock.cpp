#include "sync/clock.hpp"

#include <thread>

namespace syncforce {

namespace {

class real_clocks : public time_source {
public:
  std::chrono::system_clock::time_point system_now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point steady_now() const override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) const override { std::this_thread::sleep_for(d); }
};

} // namespace

long time_source::utc_day() const {
  using days = std::chrono::duration<long, std::ratio<86400>>;
  return std::chrono::duration_cast<days>(system_now().time_since_epoch()).count();
}

std::int64_t time_source::unix_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(system_now().time_since_epoch()).count();
}

double time_source::seconds_since(std::chrono::steady_clock::time_point t) const {
  return std::chrono::duration<double>(steady_now() - t).count();
}

std::chrono::system_clock::time_point time_source::deadline_in(std::chrono::milliseconds d) const {
  return system_now() + d;
}

std::shared_ptr<const time_source> shared_real_time() {
  static const auto clocks = std::make_shared<const real_clocks>();
  return clocks;
}

const time_source& real_time() { return *shared_real_time(); }

manual_time::manual_time(std::chrono::system_clock::time_point start) : system_(start) {}

std::chrono::system_clock::time_point manual_time::system_now() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return system_;
}

std::chrono::steady_clock::time_point manual_time::steady_now() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return steady_;
}

void manual_time::sleep_for(std::chrono::milliseconds d) const {
  std::lock_guard<std::mutex> guard(mutex_);
  system_ += d;
  steady_ += d;
}

void manual_time::advance(std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> guard(mutex_);
  system_ += d;
  steady_ += d;
}

void manual_time::set_system(std::chrono::system_clock::time_point t) {
  std::lock_guard<std::mutex> guard(mutex_);
  system_ = t;
}

} // namespace syncforce
