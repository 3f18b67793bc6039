#pragma once

#include "tests/support/process.hpp"

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

private:
  std::unique_ptr<child_process> process_;
  std::string base_url_;
  int port_ = 0;
};

} // namespace syncforce::testing
