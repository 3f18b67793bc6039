#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::testing {

using namespace std::chrono_literals;

/// A child process for integration tests: started from argv, its stdout and
/// stderr captured to a temporary file, killed (SIGKILL) if still running when destroyed.
class child_process {
public:
  /// Starts argv[0] (a path) with the current environment plus `extra_env`.
  /// Throws std::runtime_error if it cannot be started.
  static std::unique_ptr<child_process> start(std::vector<std::string> argv,
                                              std::map<std::string, std::string> extra_env = {});
  ~child_process();

  int pid() const { return pid_; }
  bool running();
  bool signal(int sig);
  /// Waits for the process to exit; its exit code (128+signal if killed), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// Everything it printed so far (stdout and stderr interleaved).
  std::string output() const;
  /// Waits until the output contains `needle`; false on timeout or if the process died first.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout);

private:
  child_process() = default;
  int pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

/// Polls `condition` every `step` until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = 20ms);

/// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

/// The path of one of the project's binaries ($SYNCFORCE_BIN_DIR/name).
std::string bin_path(const std::string& name);

/// The repository root ($SYNCFORCE_SOURCE_DIR).
std::string source_dir();

} // namespace syncforce::testing
