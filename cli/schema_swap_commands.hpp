#pragma once

// `syncforce connection:clone` and `syncforce cutover`: the schema swap of
// docs/schema-swap.md (Heroku Connect's hc1 -> hc2 runbook as two commands).

#include "cli/common.hpp"

#include <string>
#include <vector>

namespace syncforce::cli {

struct clone_options {
  std::string source;
  std::string name;
  std::string schema;
  std::vector<std::string> mappings;
  std::vector<std::string> add_fields;
};
/// Creates the clone, then (on a terminal, or with --wait) shows its loads until it is in sync.
int connection_clone(const common_options& opts, const clone_options& c);

struct cutover_options {
  std::string source;
  std::string target;
  std::vector<std::string> mappings;
  std::vector<std::string> roles;
  bool dry_run = false;
  bool move_tables = false;
  int drain_timeout = 0;
  int catch_up_timeout = 0;
  int lock_timeout = 0;
};
/// 0 when done (or a dry run that would go ahead), 1 when rolled back, 6 when refused.
int cutover(const common_options& opts, const cutover_options& c);

} // namespace syncforce::cli
