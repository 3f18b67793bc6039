#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

/// A PostgreSQL text[] literal, for a parameter used as `= ANY($n::text[])`.
std::string text_array(const std::vector<std::string>& values);

/// A PostgreSQL text[] literal whose empty optionals are NULL elements, for
/// `unnest($n::text[])` of a column with NULLs.
std::string nullable_text_array(const std::vector<std::optional<std::string>>& values);

/// A PostgreSQL bigint[] literal, for `= ANY($n::bigint[])`.
std::string bigint_array(const std::vector<std::int64_t>& values);

} // namespace syncforce::store
