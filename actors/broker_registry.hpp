#pragma once

#include "actors/broker_protocol.hpp"

#include <caf/all.hpp>

#include <map>
#include <mutex>
#include <string>

namespace syncforce::actors {

/// The limit brokers (integration-user actors) running in this node, by user
/// key: what the Cluster gRPC service answers from and what a node's broker
/// proxies ask in-process. Thread-safe; holds no actor alive.
class broker_registry {
public:
  void add(const std::string& user_key, const integration_user_actor& broker) {
    std::lock_guard<std::mutex> guard(mtx_);
    brokers_[user_key] = caf::actor_cast<caf::weak_actor_ptr>(broker);
  }

  void remove(const std::string& user_key) {
    std::lock_guard<std::mutex> guard(mtx_);
    brokers_.erase(user_key);
  }

  /// The running broker of `user_key`, or an invalid handle.
  integration_user_actor find(const std::string& user_key) const {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = brokers_.find(user_key);
    if (i == brokers_.end())
      return {};
    return caf::actor_cast<integration_user_actor>(i->second.lock());
  }

private:
  mutable std::mutex mtx_;
  std::map<std::string, caf::weak_actor_ptr> brokers_;
};

} // namespace syncforce::actors
