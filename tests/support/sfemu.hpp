#pragma once

#include "tests/support/process.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace syncforce::testing {

/// The real sfemu binary on a free port, for integration tests. Waits for the
/// line "sfemu listening on http://127.0.0.1:PORT" before returning.
class sfemu_process {
public:
  explicit sfemu_process(std::vector<std::string> extra_args = {});
  /// e.g. "http://127.0.0.1:41234"
  const std::string& base_url() const { return base_url_; }
  int port() const { return port_; }
  child_process& process() { return *process_; }

  /// A call to the control API (`/__sfemu/PATH`, docs/sfemu.md): the JSON answer.
  /// Throws std::runtime_error (with the status and body) on a transport error or
  /// a status of 400 and above. The control API is never faulted nor counted.
  nlohmann::json control(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr) const;

private:
  std::unique_ptr<child_process> process_;
  std::string base_url_;
  int port_ = 0;
};

} // namespace syncforce::testing
