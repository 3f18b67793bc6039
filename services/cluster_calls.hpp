#pragma once

// Blocking calls to another node's Cluster service for the admin service,
// which answers from what a running actor knows (a broker's pool, a mapping's
// recent log lines) when that actor runs elsewhere. Called only on a worker
// of the admin pool (services/call_pool.hpp), never on a gRPC thread.

#include "services/cluster_security.hpp"
#include "syncforce/v1/cluster.pb.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace syncforce::services {

/// The broker pool of `user_key` at `address` (the node holding the user's lease).
grpc::Status call_broker_state(const cluster_security& sec, const std::string& address, const std::string& user_key,
                               syncforce::v1::BrokerState& out,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// The recent log lines of `mapping_id` kept by the node at `address`.
grpc::Status call_node_mapping_log(const cluster_security& sec, const std::string& address,
                                   const std::string& mapping_id, const std::string& connection_id,
                                   const std::string& object_name, std::int32_t limit,
                                   syncforce::v1::NodeMappingLog& out,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace syncforce::services
