#pragma once

#include "syncforce/v1/admin.grpc.pb.h"

#include <caf/all.hpp>

#include <optional>
#include <string>

namespace syncforce::services {

/// What the admin API needs: the database, and the bearer token callers must
/// present (none configured: every call is refused).
struct admin_settings {
  std::string database_url;
  std::optional<std::string> token;
};

/// syncforce.v1.Admin. Handlers never block a gRPC thread: each call checks the
/// token, then a short-lived detached actor does the database work and
/// finishes the call. The token is never logged nor echoed.
class admin_service : public syncforce::v1::Admin::CallbackService {
public:
  admin_service(caf::actor_system& sys, admin_settings settings);

  grpc::ServerUnaryReactor* GetState(grpc::CallbackServerContext* ctx, const syncforce::v1::GetStateRequest* req,
                                     syncforce::v1::State* reply) override;
  grpc::ServerUnaryReactor* GetWriteErrors(grpc::CallbackServerContext* ctx,
                                           const syncforce::v1::GetWriteErrorsRequest* req,
                                           syncforce::v1::WriteErrors* reply) override;
  grpc::ServerUnaryReactor* ExportConfiguration(grpc::CallbackServerContext* ctx,
                                                const syncforce::v1::ExportConfigurationRequest* req,
                                                syncforce::v1::ExportedConfiguration* reply) override;

private:
  /// OK, or UNAUTHENTICATED saying what is wrong (never the token).
  grpc::Status authenticate(const grpc::CallbackServerContext* ctx) const;

  caf::actor_system& sys_;
  admin_settings settings_;
};

} // namespace syncforce::services
