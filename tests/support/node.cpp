#include "tests/support/node.hpp"

#include <csignal>
#include <regex>
#include <stdexcept>

namespace syncforce::testing {

cli_result run_cli(const std::string& server, const std::vector<std::string>& args,
                   const std::optional<std::string>& token, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{bin_path("syncforce"), "--server", server};
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> env;
  if (token)
    env["SYNCFORCE_TOKEN"] = *token;
  auto p = child_process::start(argv, env);
  cli_result r;
  r.code = p->wait_exit(timeout).value_or(-1);
  r.output = p->output();
  return r;
}

node_process::node_process(const node_options& options, std::chrono::milliseconds start_timeout) {
  std::vector<std::string> argv{bin_path("syncforced"), "--database-url", options.database_url, "--grpc-address",
                                "127.0.0.1:0",          "--node-name",    options.node_name};
  if (options.config_path) {
    argv.push_back("--config");
    argv.push_back(*options.config_path);
  }
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  process_ = child_process::start(argv, options.env);
  if (!process_->wait_for_output("gRPC server listening", start_timeout))
    throw std::runtime_error("syncforced did not start its gRPC server; its output:\n" + process_->output());
  std::smatch m;
  auto out = process_->output();
  if (!std::regex_search(out, m, std::regex("gRPC server listening\" port=(\\d+)")))
    throw std::runtime_error("syncforced printed no gRPC port; its output:\n" + out);
  server_ = "127.0.0.1:" + m[1].str();
}

void node_process::kill() {
  process_->signal(SIGKILL);
  process_->wait_exit(std::chrono::seconds(20));
}

std::optional<int> node_process::terminate(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  return process_->wait_exit(timeout);
}

bool node_process::ready() {
  return process_->running() &&
         cli({"health", "--service", "readiness"}, std::nullopt, std::chrono::seconds(15)).code == 0;
}

cli_result node_process::cli(const std::vector<std::string>& args, const std::optional<std::string>& token,
                             std::chrono::milliseconds timeout) {
  return run_cli(server_, args, token, timeout);
}

} // namespace syncforce::testing
