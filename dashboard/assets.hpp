#pragma once

#include <string_view>

namespace syncforce::dashboard {

/// A file of dashboard/assets/, compiled into the binary (assets.cpp is
/// generated from the folder at build time).
struct asset {
  std::string_view path;         ///< "/app.js"
  std::string_view content_type; ///< "text/javascript; charset=utf-8"
  std::string_view body;
};

/// The asset served at `path` ("/" is index.html), or nullptr.
const asset* find_asset(std::string_view path);

} // namespace syncforce::dashboard
