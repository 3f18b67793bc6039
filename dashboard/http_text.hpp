#pragma once

#include <string>

namespace syncforce::dashboard {

/// The value of cookie `name` in a Cookie header ("a=1; sf_session=xyz"), or empty.
std::string cookie_value(const std::string& header, const std::string& name);

/// Whether a browser's Origin header ("http://host:port") names a host other
/// than `host` (the Host header). An absent Origin is not foreign.
bool foreign_origin(const std::string& origin, const std::string& host);

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break,
/// quotes doubled; a leading = + - @ gets a ' so a spreadsheet never runs it as a formula.
std::string csv_field(const std::string& value);

} // namespace syncforce::dashboard
