#include "services/cluster_security.hpp"

#include "sync/admin_rules.hpp"

#include <fstream>
#include <sstream>

namespace syncforce::services {

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t'))
    ++start;
  return s.substr(start);
}

} // namespace

std::optional<cluster_security> load_cluster_security(const node_settings& s, std::string& error) {
  cluster_security sec;
  sec.insecure = s.cluster_insecure;
  if (!s.cluster_secret_file.empty()) {
    std::string text;
    if (!read_file(s.cluster_secret_file, text)) {
      error = "--cluster-secret-file (SYNCFORCE_CLUSTER_SECRET_FILE) '" + s.cluster_secret_file + "' cannot be read";
      return std::nullopt;
    }
    sec.secret = trimmed(text);
    if (sec.secret.find('\n') != std::string::npos) {
      error = "--cluster-secret-file (SYNCFORCE_CLUSTER_SECRET_FILE) '" + s.cluster_secret_file +
              "' must hold the secret on one line";
      return std::nullopt;
    }
    if (sec.secret.size() < 16) {
      error = "--cluster-secret-file (SYNCFORCE_CLUSTER_SECRET_FILE) '" + s.cluster_secret_file +
              "' holds a secret under 16 characters; use e.g. `openssl rand -hex 32`";
      return std::nullopt;
    }
  }
  struct part {
    const std::string& path;
    std::string& out;
    const char* flag;
  };
  for (auto p : {part{s.cluster_tls_cert, sec.tls_cert, "--cluster-tls-cert"},
                 part{s.cluster_tls_key, sec.tls_key, "--cluster-tls-key"},
                 part{s.cluster_tls_ca, sec.tls_ca, "--cluster-tls-ca"}}) {
    if (p.path.empty())
      continue;
    if (!read_file(p.path, p.out) || p.out.find("-----BEGIN") == std::string::npos) {
      error = std::string{p.flag} + " '" + p.path + "' cannot be read or is not PEM";
      return std::nullopt;
    }
  }
  return sec;
}

grpc::Status authorize_cluster_call(const cluster_security& sec, const grpc::CallbackServerContext* ctx) {
  if (sec.tls()) {
    auto auth = ctx->auth_context();
    if (!auth || !auth->IsPeerAuthenticated())
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "Cluster calls to this node need mTLS: call its --cluster-tls-address with a "
                          "certificate signed by the cluster CA");
  }
  if (sec.secret.empty()) {
    if (sec.insecure)
      return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "this node takes no Cluster calls: it has no cluster secret "
                        "(--cluster-secret-file or SYNCFORCE_CLUSTER_SECRET_FILE)");
  }
  const auto& md = ctx->client_metadata();
  auto it = md.find(cluster_secret_header);
  if (it == md.end())
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        std::string{"no cluster secret: send it as '"} + cluster_secret_header + "' metadata");
  if (!same_secret(std::string_view(it->second.data(), it->second.size()), sec.secret))
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the cluster secret is not this cluster's");
  return grpc::Status::OK;
}

std::shared_ptr<grpc::ChannelCredentials> cluster_channel_credentials(const cluster_security& sec) {
  if (!sec.tls())
    return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = sec.tls_ca;
  o.pem_private_key = sec.tls_key;
  o.pem_cert_chain = sec.tls_cert;
  return grpc::SslCredentials(o);
}

std::shared_ptr<grpc::ServerCredentials> cluster_server_credentials(const cluster_security& sec) {
  grpc::SslServerCredentialsOptions o(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  o.pem_root_certs = sec.tls_ca;
  o.pem_key_cert_pairs.push_back({sec.tls_key, sec.tls_cert});
  return grpc::SslServerCredentials(o);
}

} // namespace syncforce::services
