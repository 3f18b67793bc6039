#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sfemu {

/// Salesforce record ids: 15 case-sensitive characters (3-character key prefix,
/// pod/instance, counter) plus a 3-character case-insensitive checksum suffix.
namespace ids {

/// The 3-character suffix that makes a 15-character id case-insensitive.
std::string checksum_suffix(std::string_view id15);

/// Builds an 18-character id from a key prefix (3 chars) and a sequence number.
std::string make_id(std::string_view key_prefix, std::uint64_t sequence);

/// Converts a 15-character id to 18; returns an 18-character id unchanged if valid.
/// Returns an empty string if `id` is not a well-formed id.
std::string to_18(std::string_view id);

/// True if `id` is a well-formed 15- or 18-character id (alphanumeric, valid checksum).
bool is_valid(std::string_view id);

} // namespace ids
} // namespace sfemu
