#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace syncforce::testing {

std::unique_ptr<child_process> child_process::start(std::vector<std::string> argv,
                                                    std::map<std::string, std::string> extra_env) {
  if (argv.empty())
    throw std::runtime_error("child_process::start: empty argv");
  std::unique_ptr<child_process> child(new child_process);
  char log_template[] = "/tmp/syncforce-child-XXXXXX";
  int log_fd = ::mkstemp(log_template);
  if (log_fd < 0)
    throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
  child->log_path_ = log_template;

  // Build argv/envp before fork: nothing but async-signal-safe calls after it.
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : extra_env)
    env[k] = v;
  std::vector<std::string> env_strings;
  for (auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, STDIN_FILENO);
    ::execve(args[0], args.data(), envp.data());
    const char msg[] = "child_process: execve failed\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void) ignored;
    ::_exit(127);
  }
  ::close(log_fd);
  child->pid_ = pid;
  return child;
}

child_process::~child_process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(5));
  }
  if (!log_path_.empty())
    ::unlink(log_path_.c_str());
}

bool child_process::running() {
  if (exit_code_)
    return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0)
    return true;
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    exit_code_ = -1;
  }
  return false;
}

bool child_process::signal(int sig) {
  return running() && ::kill(pid_, sig) == 0;
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  if (wait_until([this] { return !running(); }, timeout, std::chrono::milliseconds(10)))
    return exit_code_;
  return std::nullopt;
}

std::string child_process::output() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool child_process::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) {
  bool found = false;
  wait_until(
    [&] {
      found = output().find(needle) != std::string::npos;
      return found || !running();
    },
    timeout);
  return found || output().find(needle) != std::string::npos;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("free_port: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: bind failed");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string bin_path(const std::string& name) {
  const char* dir = std::getenv("SYNCFORCE_BIN_DIR");
  return std::string(dir != nullptr ? dir : "build/bin") + "/" + name;
}

std::string source_dir() {
  const char* dir = std::getenv("SYNCFORCE_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

} // namespace syncforce::testing
