#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace syncforce::actors {

/// Where the limit broker of a Salesforce user runs: the node holding the
/// lease 'user:<user key>'. Called from actors; implementations are thread-safe
/// and answer from what they know without blocking on I/O.
struct broker_directory {
  virtual ~broker_directory() = default;
  /// The owner's advertised gRPC address (host:port); nullopt while unknown.
  virtual std::optional<std::string> owner_address(const std::string& user_key) = 0;
  /// The broker runs in this node: ask it in-process.
  virtual bool is_local(const std::string& user_key) = 0;
};

/// A fixed directory: the users listed run their broker at the address given;
/// every other user's broker is local (each node its own, as on a single node).
/// For tests and the TEST-ONLY `--test-broker-owner` flag.
class fixed_broker_directory : public broker_directory {
public:
  /// `self_address`: this node's advertised address (an owner equal to it is local).
  explicit fixed_broker_directory(std::string self_address) : self_(std::move(self_address)) {
  }

  void set_owner(const std::string& user_key, const std::string& address) {
    std::lock_guard<std::mutex> guard(mtx_);
    owners_[user_key] = address;
  }

  std::optional<std::string> owner_address(const std::string& user_key) override {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = owners_.find(user_key);
    if (i == owners_.end())
      return self_;
    return i->second;
  }

  bool is_local(const std::string& user_key) override {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = owners_.find(user_key);
    return i == owners_.end() || i->second == self_;
  }

private:
  std::mutex mtx_;
  std::string self_;
  std::map<std::string, std::string> owners_;
};

/// Where each user's broker runs, from the cluster's leases (docs/cluster.md):
/// the cluster member updates it on every heartbeat with the live owner of each
/// `integration_user` lease and that node's advertised address.
class lease_broker_directory : public broker_directory {
public:
  explicit lease_broker_directory(std::string self_address) : self_(std::move(self_address)) {}

  /// user key -> the advertised address of the node holding its broker's lease.
  void update(std::map<std::string, std::string> owners) {
    std::lock_guard<std::mutex> guard(mtx_);
    owners_ = std::move(owners);
  }

  std::optional<std::string> owner_address(const std::string& user_key) override {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = owners_.find(user_key);
    if (i == owners_.end())
      return std::nullopt; // moving, or no node live: the proxy asks again
    return i->second;
  }

  bool is_local(const std::string& user_key) override {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = owners_.find(user_key);
    return i != owners_.end() && i->second == self_;
  }

private:
  std::mutex mtx_;
  std::string self_;
  std::map<std::string, std::string> owners_;
};

} // namespace syncforce::actors
