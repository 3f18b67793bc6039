#include "dashboard/admin_bridge.hpp"

#include "syncforce/v1/admin.grpc.pb.h"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>

namespace syncforce::dashboard {

namespace {

namespace v1 = syncforce::v1;
using stub = v1::Admin::Stub;
using invoker = std::function<bridge_answer(stub&, grpc::ClientContext&, const std::string&)>;

bridge_answer error_answer(int http_status, const std::string& code, const std::string& message) {
  return bridge_answer{http_status, nlohmann::json{{"error", message}, {"code", code}}.dump()};
}

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    default: return "INTERNAL";
  }
}

/// One admin method: the request parsed from JSON (unknown fields refused with
/// their name), the stub's call, the reply printed with proto field names and
/// every field present (the page need not guess defaults).
template <class Request, class Reply>
invoker make_invoker(grpc::Status (stub::*method)(grpc::ClientContext*, const Request&, Reply*)) {
  return [method](stub& s, grpc::ClientContext& ctx, const std::string& body) {
    Request request;
    google::protobuf::util::JsonParseOptions parse;
    parse.ignore_unknown_fields = false;
    auto parsed = google::protobuf::util::JsonStringToMessage(body.empty() ? "{}" : body, &request, parse);
    if (!parsed.ok())
      return error_answer(400, "INVALID_ARGUMENT", "the request is not valid: " + std::string(parsed.message()));
    Reply reply;
    auto status = (s.*method)(&ctx, request, &reply);
    if (!status.ok())
      return error_answer(http_status_for(status.error_code()), code_name(status.error_code()),
                          status.error_message());
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    print.always_print_primitive_fields = true;
    std::string out;
    auto printed = google::protobuf::util::MessageToJsonString(reply, &out, print);
    if (!printed.ok())
      return error_answer(500, "INTERNAL", "cannot print the answer: " + std::string(printed.message()));
    return bridge_answer{200, out};
  };
}

const std::map<std::string, invoker>& methods() {
  static const std::map<std::string, invoker> all{
    {"GetState", make_invoker(&stub::GetState)},
    {"GetWriteErrors", make_invoker(&stub::GetWriteErrors)},
    {"GetReadErrors", make_invoker(&stub::GetReadErrors)},
    {"ExportConfiguration", make_invoker(&stub::ExportConfiguration)},
    {"CreateConnection", make_invoker(&stub::CreateConnection)},
    {"SetDatabase", make_invoker(&stub::SetDatabase)},
    {"SetAuth", make_invoker(&stub::SetAuth)},
    {"SetApiVersion", make_invoker(&stub::SetApiVersion)},
    {"CreateMapping", make_invoker(&stub::CreateMapping)},
    {"EditMapping", make_invoker(&stub::EditMapping)},
    {"DeleteMapping", make_invoker(&stub::DeleteMapping)},
    {"ReloadMapping", make_invoker(&stub::ReloadMapping)},
    {"AbortMapping", make_invoker(&stub::AbortMapping)},
    {"ImportConfiguration", make_invoker(&stub::ImportConfiguration)},
    {"Pause", make_invoker(&stub::Pause)},
    {"Resume", make_invoker(&stub::Resume)},
    {"Recover", make_invoker(&stub::Recover)},
    {"Diagnose", make_invoker(&stub::Diagnose)},
    {"GetAuditLog", make_invoker(&stub::GetAuditLog)},
    {"DescribeObject", make_invoker(&stub::DescribeObject)},
    {"ResolveWriteErrors", make_invoker(&stub::ResolveWriteErrors)},
    {"GetLimits", make_invoker(&stub::GetLimits)},
    {"GetMappingLog", make_invoker(&stub::GetMappingLog)},
  };
  return all;
}

} // namespace

int http_status_for(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    default: return 500;
  }
}

admin_bridge::admin_bridge(std::shared_ptr<grpc::Channel> channel, std::vector<admin_token> tokens,
                           std::shared_ptr<const time_source> time)
  : channel_(std::move(channel)), tokens_(std::move(tokens)), time_(time ? std::move(time) : shared_real_time()) {
}

std::optional<std::string> admin_bridge::sign_in(const std::string& token) const {
  return token_name(tokens_, token);
}

bool admin_bridge::knows(const std::string& name) const {
  for (const auto& t : tokens_)
    if (t.name == name)
      return true;
  return false;
}

bool admin_bridge::has_method(const std::string& method) {
  return methods().count(method) > 0;
}

bridge_answer admin_bridge::call(const std::string& name, const std::string& method,
                                 const std::string& request_json) const {
  auto it = methods().find(method);
  if (it == methods().end())
    return error_answer(404, "NOT_FOUND", "no admin call named '" + method + "'");
  const admin_token* token = nullptr;
  for (const auto& t : tokens_)
    if (t.name == name)
      token = &t;
  if (token == nullptr)
    return error_answer(401, "UNAUTHENTICATED", "the token '" + name + "' of this session is no longer valid");
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token->token);
  // Describe and imports log in to Salesforce: give them the CLI's patience.
  ctx.set_deadline(time_->deadline_in(std::chrono::minutes(5)));
  auto s = v1::Admin::NewStub(channel_);
  return it->second(*s, ctx, request_json);
}

} // namespace syncforce::dashboard
