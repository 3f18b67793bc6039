#pragma once
// The real syncforced node and the real `syncforce` CLI, for tests that start,
// kill and restart nodes: the node's gRPC address is read from its log line,
// readiness is asked the way an operator does (`syncforce health`).

#include "tests/support/process.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::testing {

/// How to start a node.
struct node_options {
  std::string database_url;
  std::string node_name = "it-node";
  /// A configuration file imported at start (`--config`); none: the control schema is the truth.
  std::optional<std::string> config_path;
  /// More flags (e.g. `--bulk-threshold 1000`).
  std::vector<std::string> args;
  /// More environment (e.g. the Salesforce password, SYNCFORCE_ADMIN_TOKEN, SYNCFORCE_TEST_POLL_SECONDS).
  std::map<std::string, std::string> env;
};

/// What the `syncforce` CLI printed and its exit code (-1 when it did not finish in time).
struct cli_result {
  int code = -1;
  std::string output;
};

/// Runs `syncforce --server SERVER ARGS...` with SYNCFORCE_TOKEN = `token` (none when nullopt).
cli_result run_cli(const std::string& server, const std::vector<std::string>& args,
                   const std::optional<std::string>& token = std::nullopt,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// One syncforced process. Starting waits for its gRPC server (throws with the
/// node's output when it does not come up in time); destruction kills it.
class node_process {
public:
  explicit node_process(const node_options& options,
                        std::chrono::milliseconds start_timeout = std::chrono::seconds(30));

  /// "127.0.0.1:PORT" of its gRPC server (health, admin API).
  const std::string& server() const { return server_; }
  child_process& process() { return *process_; }
  std::string output() const { return process_->output(); }

  /// kill -9 and wait until it is gone.
  void kill();
  /// SIGTERM; the exit code, or nullopt when it did not stop within `timeout`.
  std::optional<int> terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  /// `syncforce health --service readiness` says SERVING.
  bool ready();
  /// `syncforce ARGS...` against this node.
  cli_result cli(const std::vector<std::string>& args, const std::optional<std::string>& token = std::nullopt,
                 std::chrono::milliseconds timeout = std::chrono::seconds(60));

private:
  std::unique_ptr<child_process> process_;
  std::string server_;
};

} // namespace syncforce::testing
