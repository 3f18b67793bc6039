#pragma once

#include "actors/broker_transport.hpp"
#include "services/cluster_security.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace syncforce::v1 {
class Cluster;
}

namespace syncforce::services {

/// The broker proxies' way to other nodes: syncforce.v1.Cluster over gRPC's
/// asynchronous callback API (no thread waits on a call), with the cluster
/// secret as metadata and mTLS when configured. One channel per address.
class grpc_broker_transport : public actors::broker_transport {
public:
  explicit grpc_broker_transport(cluster_security security);
  ~grpc_broker_transport() override;

  void acquire(const std::string& address, const std::string& user_key, const std::string& holder_node,
               const std::string& holder, std::int64_t ttl_ms, std::int64_t max_wait_ms,
               std::function<void(actors::broker_answer)> done) override;
  void renew(const std::string& address, const std::string& user_key, const std::string& holder_node,
             const std::vector<std::string>& grant_ids, const std::vector<std::string>& holders, std::int64_t ttl_ms,
             std::function<void(actors::broker_answer)> done) override;
  void release(const std::string& address, const std::string& user_key, const std::string& holder_node,
               const std::string& grant_id) override;
  void report_limits(const std::string& address, const std::string& user_key, std::int64_t used,
                     std::int64_t max) override;

private:
  struct stub_holder;
  std::shared_ptr<stub_holder> stub_for(const std::string& address);

  cluster_security security_;
  std::mutex mtx_;
  std::map<std::string, std::shared_ptr<stub_holder>> stubs_;
};

} // namespace syncforce::services
