#include "salesforce/jwt.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace syncforce::salesforce {

namespace {

constexpr char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct bio_deleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct pkey_deleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct x509_deleter {
  void operator()(X509* x) const { X509_free(x); }
};

sf_error jwt_error(std::string message) {
  sf_error e;
  e.kind = error_kind::auth;
  e.code = "JWT_SIGNING_FAILED";
  e.message = std::move(message);
  return e;
}

} // namespace

std::string base64url_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(b64url_alphabet[(v >> 18) & 63]);
    out.push_back(b64url_alphabet[(v >> 12) & 63]);
    out.push_back(b64url_alphabet[(v >> 6) & 63]);
    out.push_back(b64url_alphabet[v & 63]);
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    unsigned v = byte(i) << 16;
    out.push_back(b64url_alphabet[(v >> 18) & 63]);
    out.push_back(b64url_alphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(b64url_alphabet[(v >> 18) & 63]);
    out.push_back(b64url_alphabet[(v >> 12) & 63]);
    out.push_back(b64url_alphabet[(v >> 6) & 63]);
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  while (!text.empty() && text.back() == '=')
    text.remove_suffix(1);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-' || c == '+') v = 62;
    else if (c == '_' || c == '/') v = 63;
    else return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return bits < 6;
}

result<std::string> make_jwt_assertion(const jwt_claims& claims, const secret& private_key_pem) {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  auto exp = std::chrono::duration_cast<std::chrono::seconds>(claims.exp.time_since_epoch()).count();
  nlohmann::json body = {{"iss", claims.iss}, {"sub", claims.sub}, {"aud", claims.aud}, {"exp", exp}};
  std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(body.dump());

  const auto& pem = private_key_pem.reveal();
  std::unique_ptr<BIO, bio_deleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio)
    return jwt_error("cannot allocate a BIO");
  std::unique_ptr<EVP_PKEY, pkey_deleter> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    return jwt_error("the private key is not a readable PEM private key");
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA)
    return jwt_error("the private key is not an RSA key");
  std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1)
    return jwt_error("cannot initialise RS256 signing");
  size_t len = 0;
  auto input = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, input, signing_input.size()) != 1)
    return jwt_error("cannot size the RS256 signature");
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len, input,
                     signing_input.size()) != 1)
    return jwt_error("RS256 signing failed");
  signature.resize(len);
  return signing_input + "." + base64url_encode(signature);
}

bool verify_jwt_rs256(std::string_view token, std::string_view public_key_pem) {
  auto first = token.find('.');
  auto second = token.rfind('.');
  if (first == std::string_view::npos || second == first)
    return false;
  std::string signature;
  if (!base64url_decode(token.substr(second + 1), signature))
    return false;
  std::string header_json;
  if (!base64url_decode(token.substr(0, first), header_json))
    return false;
  auto header = nlohmann::json::parse(header_json, nullptr, false);
  if (header.is_discarded() || !header.is_object() || header.value("alg", "") != "RS256")
    return false;

  std::unique_ptr<BIO, bio_deleter> bio(
    BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  if (!bio)
    return false;
  std::unique_ptr<EVP_PKEY, pkey_deleter> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    // Perhaps a certificate.
    std::unique_ptr<BIO, bio_deleter> bio2(
      BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
    std::unique_ptr<X509, x509_deleter> cert(PEM_read_bio_X509(bio2.get(), nullptr, nullptr, nullptr));
    if (!cert)
      return false;
    key.reset(X509_get_pubkey(cert.get()));
    if (!key)
      return false;
  }
  std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1)
    return false;
  auto input = token.substr(0, second);
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

} // namespace syncforce::salesforce
