#include "tests/support/sfemu.hpp"

#include <regex>
#include <stdexcept>

namespace syncforce::testing {

sfemu_process::sfemu_process(std::vector<std::string> extra_args) {
  std::vector<std::string> argv{bin_path("sfemu"), "--port", "0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = child_process::start(std::move(argv));
  const std::string marker = "sfemu listening on ";
  if (!process_->wait_for_output(marker, std::chrono::seconds(20)))
    throw std::runtime_error("sfemu did not start; its output:\n" + process_->output());
  std::smatch m;
  std::string out = process_->output();
  static const std::regex line(R"(sfemu listening on (http://[^:\s]+:(\d+)))");
  if (!std::regex_search(out, m, line))
    throw std::runtime_error("sfemu printed no URL; its output:\n" + out);
  base_url_ = m[1].str();
  port_ = std::stoi(m[2].str());
}

} // namespace syncforce::testing
