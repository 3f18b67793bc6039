// sfemu and requests that say nothing about their body's length. cpp-httplib
// reads such a body until the client closes the connection, so a POST without
// Content-Length used to wait for the 30 s read timeout before a 400. sfemu now
// refuses a POST/PUT/PATCH of unknown length at once with 411 (as Salesforce's
// front end does) and treats any other request without a length as bodiless
// (RFC 9112, 6.3), so a DELETE without Content-Length is answered at once too.
// Every exchange here waits at most 5 s for the answer (far below the 30 s timeout).

#include "tests/support/sfemu.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

using namespace syncforce::testing;
using nlohmann::json;

namespace {

/// One TCP connection to sfemu, written to and read from by hand.
class raw_connection {
public:
  explicit raw_connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{5, 0}; // the longest any answer may take
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~raw_connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  struct response {
    int status = 0;
    std::string headers; ///< lowercased header block
    std::string body;
  };

  /// One response (headers, then Content-Length bytes of body), or nullopt when
  /// none came within the receive timeout.
  std::optional<response> read_response() {
    std::string data;
    std::size_t header_end = std::string::npos;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos)
      if (!read_some(data))
        return std::nullopt;
    response r;
    r.headers = data.substr(0, header_end);
    for (auto& c : r.headers)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (r.headers.rfind("http/1.1 ", 0) != 0)
      return std::nullopt;
    r.status = std::stoi(r.headers.substr(9, 3));
    std::size_t length = 0;
    if (auto at = r.headers.find("content-length: "); at != std::string::npos)
      length = std::stoul(r.headers.substr(at + 16));
    r.body = data.substr(header_end + 4);
    while (r.body.size() < length)
      if (!read_some(r.body))
        return std::nullopt;
    return r;
  }

private:
  bool read_some(std::string& into) {
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0)
      return false;
    into.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
};

class sfemu_raw_http : public ::testing::Test {
protected:
  void SetUp() override { emu_ = std::make_unique<sfemu_process>(); }

  /// A session id, from a password login sent with a proper Content-Length.
  std::string login() {
    raw_connection c(emu_->port());
    const std::string body =
      "grant_type=password&client_id=cid&client_secret=secret&username=admin@sfemu.local&password=sfemu";
    EXPECT_TRUE(c.send("POST /services/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body));
    auto r = c.read_response();
    if (!r || r->status != 200) {
      ADD_FAILURE() << "login failed: " << (r ? r->body : "no answer");
      return {};
    }
    return json::parse(r->body).value("access_token", "");
  }

  std::unique_ptr<sfemu_process> emu_;
};

} // namespace

TEST_F(sfemu_raw_http, a_post_without_content_length_is_refused_at_once_with_411) {
  auto token = login();
  ASSERT_FALSE(token.empty());
  raw_connection c(emu_->port());
  ASSERT_TRUE(c.connected());
  // No body, no Content-Length, and the connection stays open (no half-close):
  // the server cannot find the end of the body by EOF.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("POST /services/data/v60.0/sobjects/Account HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r) << "no answer within 5 s";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(r->status, 411) << r->body;
  auto body = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(body.is_array()) << r->body;
  EXPECT_EQ(body[0].value("errorCode", ""), "LENGTH_REQUIRED") << r->body;
  // The client is told to close (cpp-httplib itself closes at its keep-alive timeout).
  EXPECT_NE(r->headers.find("connection: close"), std::string::npos) << r->headers;
}

TEST_F(sfemu_raw_http, patch_and_put_without_content_length_are_refused_at_once_too) {
  auto token = login();
  ASSERT_FALSE(token.empty());
  for (const char* method : {"PATCH", "PUT"}) {
    raw_connection c(emu_->port());
    ASSERT_TRUE(c.send(std::string{method} + " /services/data/v60.0/sobjects/Account/001000000000001AAA HTTP/1.1\r\n"
                       "Host: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << method << ": no answer within 5 s";
    EXPECT_EQ(r->status, 411) << method << ": " << r->body;
  }
}

TEST_F(sfemu_raw_http, the_control_api_refuses_a_post_without_content_length_at_once_too) {
  raw_connection c(emu_->port());
  ASSERT_TRUE(c.send("POST /__sfemu/reset HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r) << "no answer within 5 s";
  EXPECT_EQ(r->status, 411) << r->body;
}

TEST_F(sfemu_raw_http, a_delete_without_content_length_has_no_body_and_is_answered_at_once) {
  auto token = login();
  ASSERT_FALSE(token.empty());
  std::string id;
  {
    raw_connection c(emu_->port());
    const std::string body = R"({"Name": "Raw"})";
    ASSERT_TRUE(c.send("POST /services/data/v60.0/sobjects/Account HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                       "Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
    id = json::parse(r->body).value("id", "");
  }
  raw_connection c(emu_->port());
  ASSERT_TRUE(c.send("DELETE /services/data/v60.0/sobjects/Account/" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer " + token + "\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r) << "no answer within 5 s";
  EXPECT_EQ(r->status, 204) << r->body;
  // The connection stays usable: the next request on it is answered too.
  ASSERT_TRUE(c.send("GET /services/data/v60.0/sobjects/Account/" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer " + token + "\r\n\r\n"));
  auto again = c.read_response();
  ASSERT_TRUE(again) << "no answer to a second request on the same connection";
  EXPECT_EQ(again->status, 404) << again->body;
}

TEST_F(sfemu_raw_http, a_chunked_post_without_content_length_is_read) {
  raw_connection c(emu_->port());
  const std::string body =
    "grant_type=password&client_id=cid&client_secret=secret&username=admin@sfemu.local&password=sfemu";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  ASSERT_TRUE(c.send("POST /services/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     std::string{size} + "\r\n" + body + "\r\n0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r) << "no answer within 5 s";
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_FALSE(json::parse(r->body, nullptr, false).value("access_token", "").empty()) << r->body;
}
