#include "salesforce/jwt.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <vector>

using namespace syncforce::salesforce;

namespace {

/// A fresh RSA key pair as PEM texts (private PKCS#8, public SPKI).
struct key_pair {
  std::string private_pem;
  std::string public_pem;
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

key_pair make_key() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  EXPECT_NE(key, nullptr);
  key_pair out;
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.private_pem = bio_text(priv);
  BIO_free(priv);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, key);
  out.public_pem = bio_text(pub);
  BIO_free(pub);
  EVP_PKEY_free(key);
  return out;
}

const key_pair& key() {
  static key_pair k = make_key();
  return k;
}

jwt_claims claims() {
  jwt_claims c;
  c.iss = "3MVG9consumerkey";
  c.sub = "integration@example.com";
  c.aud = "https://login.salesforce.com";
  c.exp = std::chrono::system_clock::time_point(std::chrono::seconds(1700000180));
  return c;
}

} // namespace

TEST(base64url, round_trips_and_has_no_padding) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    auto enc = base64url_encode(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    EXPECT_EQ(enc.find('+'), std::string::npos);
    EXPECT_EQ(enc.find('/'), std::string::npos);
    std::string dec;
    ASSERT_TRUE(base64url_decode(enc, dec));
    EXPECT_EQ(dec, s);
  }
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");
}

TEST(jwt, assertion_has_the_claims_and_a_valid_rs256_signature) {
  auto token = make_jwt_assertion(claims(), secret(key().private_pem));
  ASSERT_TRUE(token) << token.error();
  auto first = token->find('.');
  auto last = token->rfind('.');
  ASSERT_NE(first, last);

  std::string header, body;
  ASSERT_TRUE(base64url_decode(token->substr(0, first), header));
  ASSERT_TRUE(base64url_decode(token->substr(first + 1, last - first - 1), body));
  auto h = nlohmann::json::parse(header);
  EXPECT_EQ(h["alg"], "RS256");
  auto b = nlohmann::json::parse(body);
  EXPECT_EQ(b["iss"], "3MVG9consumerkey");
  EXPECT_EQ(b["sub"], "integration@example.com");
  EXPECT_EQ(b["aud"], "https://login.salesforce.com");
  EXPECT_EQ(b["exp"], 1700000180);

  EXPECT_TRUE(verify_jwt_rs256(*token, key().public_pem));
}

TEST(jwt, tampering_or_another_key_fails_verification) {
  auto token = make_jwt_assertion(claims(), secret(key().private_pem));
  ASSERT_TRUE(token);
  auto other = make_key();
  EXPECT_FALSE(verify_jwt_rs256(*token, other.public_pem));

  auto c = claims();
  c.sub = "someone-else@example.com";
  auto forged_body = make_jwt_assertion(c, secret(other.private_pem));
  ASSERT_TRUE(forged_body);
  // Splice the other token's claims under the first token's signature.
  auto t = *token;
  auto f = *forged_body;
  std::string spliced = t.substr(0, t.find('.')) + f.substr(f.find('.'), f.rfind('.') - f.find('.')) +
                        t.substr(t.rfind('.'));
  EXPECT_FALSE(verify_jwt_rs256(spliced, key().public_pem));
}

TEST(jwt, unreadable_key_is_an_auth_error_without_the_key) {
  std::string bogus = "-----BEGIN PRIVATE KEY-----\nTOPSECRETNOTAKEY\n-----END PRIVATE KEY-----\n";
  auto token = make_jwt_assertion(claims(), secret(bogus));
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, error_kind::auth);
  EXPECT_EQ(token.error().describe().find("TOPSECRET"), std::string::npos);
}
