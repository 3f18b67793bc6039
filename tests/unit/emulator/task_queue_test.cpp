// sfemu's HTTP thread pool: a connection never waits behind other clients' busy
// keep-alive connections (the cluster chaos run once saw a control call of its harness
// wait two minutes for a thread while three nodes kept sixteen busy).
#include "emulator/server.hpp"
#include "emulator/task_queue.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// A gate tasks wait at until the test opens it.
class gate {
public:
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  /// True once `n` tasks wait (false after the deadline).
  bool await_waiting(int n, std::chrono::seconds deadline = 10s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return waiting_ >= n; });
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(elastic_task_queue, a_task_runs_while_every_started_thread_is_busy) {
  sfemu::elastic_task_queue queue(2, 8);
  gate busy;
  for (int i = 0; i < 4; ++i)
    queue.enqueue([&] { busy.wait(); });
  ASSERT_TRUE(busy.await_waiting(4)) << "4 blocking tasks on a pool of 2 did not all start";
  gate done;
  queue.enqueue([&] { done.wait(); });
  EXPECT_TRUE(done.await_waiting(1)) << "a fifth task waited behind four busy ones";
  EXPECT_EQ(queue.threads(), 5u);
  busy.open();
  done.open();
  queue.shutdown();
}

TEST(elastic_task_queue, waits_at_the_cap_and_runs_when_a_thread_frees) {
  sfemu::elastic_task_queue queue(1, 2);
  gate first;
  gate second;
  queue.enqueue([&] { first.wait(); });
  queue.enqueue([&] { second.wait(); });
  ASSERT_TRUE(first.await_waiting(1));
  ASSERT_TRUE(second.await_waiting(1));
  gate third;
  queue.enqueue([&] { third.wait(); });
  EXPECT_EQ(queue.threads(), 2u);
  EXPECT_EQ(queue.queued(), 1u);
  first.open();
  EXPECT_TRUE(third.await_waiting(1)) << "the queued task did not run once a thread freed";
  second.open();
  third.open();
  queue.shutdown();
}

TEST(elastic_task_queue, shutdown_runs_what_is_queued_and_refuses_the_rest) {
  int ran = 0;
  {
    sfemu::elastic_task_queue queue(1, 1);
    gate hold;
    queue.enqueue([&] { hold.wait(); });
    ASSERT_TRUE(hold.await_waiting(1));
    queue.enqueue([&] { ++ran; });
    std::thread opener([&] {
      std::this_thread::yield();
      hold.open();
    });
    queue.shutdown();
    opener.join();
    queue.enqueue([&] { ran += 100; }); // after shutdown: dropped
  }
  EXPECT_EQ(ran, 1);
}

/// Opens a TCP connection to 127.0.0.1:port and sends nothing: the server's thread for
/// it waits for a request line (its read timeout is 30 s).
int open_idle_connection(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(sfemu_server, answers_a_control_call_while_idle_connections_hold_every_started_thread) {
  sfemu::server_options opts;
  opts.threads = 2;
  opts.max_threads = 64;
  sfemu::server srv(opts);
  ASSERT_FALSE(srv.init().has_value());
  int port = srv.bind();
  ASSERT_GT(port, 0);
  std::thread serving([&] { srv.run(); });
  std::vector<int> idle;
  for (int i = 0; i < 6; ++i) {
    int fd = open_idle_connection(port);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(5, 0); // the stock pool of 2 would keep this call waiting 30 s
  auto res = client.Get("/__sfemu/health");
  for (int fd : idle)
    ::close(fd);
  srv.stop();
  serving.join();
  ASSERT_TRUE(res) << "no answer: " << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("\"ok\":true"), std::string::npos) << res->body;
}

} // namespace
