#pragma once

#include "actors/broker_registry.hpp"
#include "services/call_pool.hpp"
#include "services/cluster_security.hpp"
#include "sync/admin_rules.hpp"
#include "sync/engine_config.hpp"
#include "syncforce/v1/admin.grpc.pb.h"

#include <caf/all.hpp>
#include <pqxx/pqxx>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace syncforce::services {

/// What the admin API needs: the database, the bearer tokens callers may
/// present with the names they act under (none: every call is refused), and
/// how the node resolves secret references (default: its environment and files).
struct admin_settings {
  std::string database_url;
  std::vector<admin_token> tokens;
  secret_lookup secrets;
  /// This node's name and why one of its supervisors gave up (empty while none
  /// did): shown by GetState and Diagnose.
  std::string node_name;
  std::function<std::string()> node_failure;
  /// Calls running at once: the admin pool's worker threads, so also the most
  /// PostgreSQL connections admin calls hold. Up to max_queued_calls more wait
  /// for a worker in arrival order; beyond that a call is refused with
  /// RESOURCE_EXHAUSTED instead of piling up. Long calls (a cutover, which
  /// runs for minutes) have their own workers and never wait in line.
  std::size_t max_calls = 32;
  std::size_t max_queued_calls = 64;
  std::size_t max_long_calls = 4;
  /// The limit brokers running in this node, and how to call the Cluster service of the
  /// others: GetLimits and GetMappingLog answer from the running actors, wherever they run.
  std::shared_ptr<actors::broker_registry> brokers;
  cluster_security cluster;
};

/// syncforce.v1.Admin. Handlers never block a gRPC thread: each call checks the
/// token, then its database work runs on the admin pool (call_pool: a fixed
/// number of worker threads, admin_settings::max_calls, and a bounded line in
/// front of them), which finishes the call. The token is never logged nor echoed.
class admin_service : public syncforce::v1::Admin::CallbackService {
public:
  admin_service(caf::actor_system& sys, admin_settings settings);

  grpc::ServerUnaryReactor* GetState(grpc::CallbackServerContext* ctx, const syncforce::v1::GetStateRequest* req,
                                     syncforce::v1::State* reply) override;
  grpc::ServerUnaryReactor* GetWriteErrors(grpc::CallbackServerContext* ctx,
                                           const syncforce::v1::GetWriteErrorsRequest* req,
                                           syncforce::v1::WriteErrors* reply) override;
  grpc::ServerUnaryReactor* GetReadErrors(grpc::CallbackServerContext* ctx,
                                          const syncforce::v1::GetReadErrorsRequest* req,
                                          syncforce::v1::ReadErrors* reply) override;
  grpc::ServerUnaryReactor* ExportConfiguration(grpc::CallbackServerContext* ctx,
                                                const syncforce::v1::ExportConfigurationRequest* req,
                                                syncforce::v1::ExportedConfiguration* reply) override;

  grpc::ServerUnaryReactor* CreateConnection(grpc::CallbackServerContext* ctx,
                                             const syncforce::v1::CreateConnectionRequest* req,
                                             syncforce::v1::ConnectionState* reply) override;
  grpc::ServerUnaryReactor* SetDatabase(grpc::CallbackServerContext* ctx, const syncforce::v1::SetDatabaseRequest* req,
                                        syncforce::v1::ConnectionState* reply) override;
  grpc::ServerUnaryReactor* SetAuth(grpc::CallbackServerContext* ctx, const syncforce::v1::SetAuthRequest* req,
                                    syncforce::v1::ConnectionState* reply) override;
  grpc::ServerUnaryReactor* SetApiVersion(grpc::CallbackServerContext* ctx,
                                          const syncforce::v1::SetApiVersionRequest* req,
                                          syncforce::v1::ConnectionState* reply) override;
  grpc::ServerUnaryReactor* CreateMapping(grpc::CallbackServerContext* ctx,
                                          const syncforce::v1::CreateMappingRequest* req,
                                          syncforce::v1::MappingState* reply) override;
  grpc::ServerUnaryReactor* EditMapping(grpc::CallbackServerContext* ctx, const syncforce::v1::EditMappingRequest* req,
                                        syncforce::v1::MappingState* reply) override;
  grpc::ServerUnaryReactor* DeleteMapping(grpc::CallbackServerContext* ctx,
                                          const syncforce::v1::DeleteMappingRequest* req,
                                          syncforce::v1::ActionResult* reply) override;
  grpc::ServerUnaryReactor* ReloadMapping(grpc::CallbackServerContext* ctx,
                                          const syncforce::v1::MappingActionRequest* req,
                                          syncforce::v1::ActionResult* reply) override;
  grpc::ServerUnaryReactor* AbortMapping(grpc::CallbackServerContext* ctx,
                                         const syncforce::v1::MappingActionRequest* req,
                                         syncforce::v1::ActionResult* reply) override;
  grpc::ServerUnaryReactor* ImportConfiguration(grpc::CallbackServerContext* ctx,
                                                const syncforce::v1::ImportConfigurationRequest* req,
                                                syncforce::v1::ImportReport* reply) override;
  grpc::ServerUnaryReactor* Pause(grpc::CallbackServerContext* ctx, const syncforce::v1::ConnectionActionRequest* req,
                                  syncforce::v1::ConnectionState* reply) override;
  grpc::ServerUnaryReactor* Resume(grpc::CallbackServerContext* ctx, const syncforce::v1::ConnectionActionRequest* req,
                                   syncforce::v1::ConnectionState* reply) override;
  grpc::ServerUnaryReactor* Recover(grpc::CallbackServerContext* ctx,
                                    const syncforce::v1::ConnectionActionRequest* req,
                                    syncforce::v1::ConnectionState* reply) override;
  grpc::ServerUnaryReactor* Diagnose(grpc::CallbackServerContext* ctx, const syncforce::v1::DiagnoseRequest* req,
                                     syncforce::v1::DiagnoseReport* reply) override;
  grpc::ServerUnaryReactor* ListNodes(grpc::CallbackServerContext* ctx, const syncforce::v1::ListNodesRequest* req,
                                      syncforce::v1::ClusterNodes* reply) override;
  grpc::ServerUnaryReactor* GetAuditLog(grpc::CallbackServerContext* ctx, const syncforce::v1::GetAuditLogRequest* req,
                                        syncforce::v1::AuditLog* reply) override;
  grpc::ServerUnaryReactor* DescribeObject(grpc::CallbackServerContext* ctx,
                                           const syncforce::v1::DescribeObjectRequest* req,
                                           syncforce::v1::ObjectDescription* reply) override;
  grpc::ServerUnaryReactor* ResolveWriteErrors(grpc::CallbackServerContext* ctx,
                                               const syncforce::v1::ResolveWriteErrorsRequest* req,
                                               syncforce::v1::ActionResult* reply) override;
  grpc::ServerUnaryReactor* CloneConnection(grpc::CallbackServerContext* ctx,
                                            const syncforce::v1::CloneConnectionRequest* req,
                                            syncforce::v1::ConnectionState* reply) override;
  grpc::ServerUnaryReactor* Cutover(grpc::CallbackServerContext* ctx, const syncforce::v1::CutoverRequest* req,
                                    syncforce::v1::CutoverReport* reply) override;
  grpc::ServerUnaryReactor* GetLimits(grpc::CallbackServerContext* ctx, const syncforce::v1::GetLimitsRequest* req,
                                      syncforce::v1::ConnectionLimits* reply) override;
  grpc::ServerUnaryReactor* GetMappingLog(grpc::CallbackServerContext* ctx,
                                          const syncforce::v1::GetMappingLogRequest* req,
                                          syncforce::v1::MappingLog* reply) override;

private:
  /// A read-only call's work, in a read transaction of its own.
  using read_work = std::function<grpc::Status(pqxx::transaction_base&)>;
  /// A changing call's work: one write transaction, committed only when the work returns OK;
  /// `actor` is the caller's token name (for the audit row).
  using write_work = std::function<grpc::Status(pqxx::work&, const std::string& actor)>;

  /// OK with the caller's token name in `actor`, or UNAUTHENTICATED saying what is wrong (never the token).
  grpc::Status authenticate(const grpc::CallbackServerContext* ctx, std::string& actor) const;
  /// Authenticates, then runs `work` on the admin pool and finishes the call.
  grpc::ServerUnaryReactor* read_call(grpc::CallbackServerContext* ctx, read_work work);
  grpc::ServerUnaryReactor* write_call(grpc::CallbackServerContext* ctx, write_work work);
  /// A call that manages its own connections and transactions (a cutover's steps),
  /// on the long-call pool; it runs to the end even when the caller goes away.
  using long_work = std::function<grpc::Status(const std::string& actor)>;
  grpc::ServerUnaryReactor* long_call(grpc::CallbackServerContext* ctx, long_work work);

  /// Runs `work` (which returns the call's status) on `pool` and finishes
  /// `reactor` with it, or finishes it with RESOURCE_EXHAUSTED when the pool is full.
  void submit(call_pool& pool, const char* name, grpc::ServerUnaryReactor* reactor, std::function<grpc::Status()> work);

  caf::actor_system& sys_;
  admin_settings settings_;
  call_pool calls_;
  call_pool long_calls_;
};

} // namespace syncforce::services
