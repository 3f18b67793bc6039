#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <string>

namespace syncforce::actors {

/// Why one of the engine's actors stopped, as a typed CAF error (category
/// `syncforce`), so a supervisor tells an expected stop from a crash without
/// reading a message string.
enum class engine_errc : std::uint8_t {
  /// The connection's lease (its PostgreSQL session) is gone: another node may
  /// run it now. Not a crash: the connection is started again and takes the
  /// lease or stands by.
  lease_lost = 1,
  /// A child crashed more often than its restart window allows.
  gave_up = 2,
};

inline constexpr caf::atom_value engine_error_category = caf::atom("syncforce");

inline caf::error make_error(engine_errc code, std::string what = {}) {
  if (what.empty())
    return caf::error{static_cast<std::uint8_t>(code), engine_error_category};
  return caf::error{static_cast<std::uint8_t>(code), engine_error_category, caf::make_message(std::move(what))};
}

/// Whether `err` is the engine error `code`.
inline bool is(const caf::error& err, engine_errc code) {
  return err.category() == engine_error_category && err.code() == static_cast<std::uint8_t>(code);
}

/// A readable rendering of any error reaching a supervisor (for logs and
/// status): engine errors by name and detail, others as CAF renders them.
inline std::string describe(const caf::error& err) {
  if (err.category() != engine_error_category)
    return caf::to_string(err);
  std::string s = err.code() == static_cast<std::uint8_t>(engine_errc::lease_lost) ? "lease lost" : "gave up";
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    s += ": " + ctx.get_as<std::string>(0);
  return s;
}

} // namespace syncforce::actors
