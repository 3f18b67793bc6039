#pragma once

// What every fuzz target shares: an invariant that aborts (so libFuzzer and the
// replay driver both report it) with a line saying which one broke.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                         \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
      std::abort();                                                                              \
    }                                                                                            \
  } while (false)
