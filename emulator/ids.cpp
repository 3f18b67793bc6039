#include "emulator/ids.hpp"

#include <cctype>

namespace sfemu::ids {

namespace {

constexpr std::string_view checksum_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
constexpr std::string_view base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool is_alnum(std::string_view s) {
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      return false;
  return true;
}

} // namespace

std::string checksum_suffix(std::string_view id15) {
  std::string suffix;
  for (std::size_t chunk = 0; chunk < 3; ++chunk) {
    int bits = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      char c = id15[chunk * 5 + i];
      if (c >= 'A' && c <= 'Z')
        bits |= 1 << i;
    }
    suffix.push_back(checksum_alphabet[static_cast<std::size_t>(bits)]);
  }
  return suffix;
}

std::string make_id(std::string_view key_prefix, std::uint64_t sequence) {
  // prefix (3) + instance "8a" style pod marker (2) + base62 counter (10) = 15
  std::string id(key_prefix.substr(0, 3));
  id += "5g";
  std::string counter(10, '0');
  for (std::size_t i = 10; i-- > 0 && sequence > 0;) {
    counter[i] = base62[sequence % 62];
    sequence /= 62;
  }
  id += counter;
  return id + checksum_suffix(id);
}

std::string to_18(std::string_view id) {
  if (id.size() == 15 && is_alnum(id))
    return std::string(id) + checksum_suffix(id);
  if (id.size() == 18 && is_valid(id))
    return std::string(id);
  return {};
}

bool is_valid(std::string_view id) {
  if (!is_alnum(id))
    return false;
  if (id.size() == 15)
    return true;
  if (id.size() != 18)
    return false;
  std::string expected = checksum_suffix(id.substr(0, 15));
  for (std::size_t i = 0; i < 3; ++i)
    if (std::toupper(static_cast<unsigned char>(id[15 + i])) != expected[i])
      return false;
  return true;
}

} // namespace sfemu::ids
