#include "salesforce/auth.hpp"
#include "salesforce/secret.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

using namespace syncforce::salesforce;

TEST(secret, streaming_and_formatting_print_stars) {
  secret s("hunter2");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(fmt::format("{}", s), "***");
  EXPECT_EQ(fmt::format("pw={:>10}", s), "pw=       ***");
  EXPECT_EQ(s.reveal(), "hunter2");
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(secret().empty());
}

TEST(secret, spdlog_never_writes_the_value) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("secret-test", sink);
  password_credentials pw;
  pw.password = secret("correct horse battery staple");
  pw.client_secret = secret("client-secret-value");
  logger.info("password={} client_secret={}", pw.password, pw.client_secret);
  EXPECT_NE(out.str().find("password=*** client_secret=***"), std::string::npos);
  EXPECT_EQ(out.str().find("horse"), std::string::npos);
  EXPECT_EQ(out.str().find("client-secret-value"), std::string::npos);
}

TEST(identity_url, yields_org_and_user) {
  std::string org, user;
  ASSERT_TRUE(parse_identity_url("https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P", org, user));
  EXPECT_EQ(org, "00Dx0000000BV7z");
  EXPECT_EQ(user, "005x00000012Q9P");
  EXPECT_FALSE(parse_identity_url("https://login.salesforce.com/id/00Dx", org, user));
  EXPECT_FALSE(parse_identity_url("https://login.salesforce.com/services", org, user));
}
