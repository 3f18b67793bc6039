// A libFuzzer-free driver for soql_fuzz.cpp, so a short fuzz-like run is part of the
// ordinary tests with any compiler: it feeds every file of a corpus directory to
// LLVMFuzzerTestOneInput, then a fixed number of pseudo-random mutations of them
// (byte flips, insertions of SOQL fragments, deletions, splices) from a fixed seed.
//
//   soql_fuzz_replay <corpus-dir> [--mutations N] [--seed S]

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int run(const std::string& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

const char* const fragments[] = {
  "SELECT ", " FROM ", " WHERE ", " AND ", " OR ", " NOT ", "(", ")", ",", ".", "'", "\\", "\\'",
  " = ", " != ", " <> ", " < ", " <= ", " > ", " >= ", " LIKE ", " IN ", " NOT IN ", " INCLUDES ",
  " EXCLUDES ", " ORDER BY ", " ASC", " DESC", " NULLS FIRST", " NULLS LAST", " LIMIT ", " OFFSET ",
  "COUNT()", "null", "true", "false", "TODAY", "LAST_N_DAYS:", "NEXT_N_DAYS:3", "2024-01-01",
  "2024-01-01T00:00:00Z", "2024-02-30", "2024-01-01T00:00:00.000+02:00", "-5", "2.5", "99999999999999999999",
  "Account", "Contact", "Name", "Owner.Name", "Account.Owner.IsActive", "Tags__c", "IsDeleted", "'%a_'",
  "\xC3\xA9", "\xff", "\n", "((((((((", "))))))))",
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir> [--mutations N] [--seed S]\n", argv[0]);
    return 2;
  }
  long mutations = 5000;
  unsigned long seed = 20240101;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--mutations")
      mutations = std::strtol(argv[i + 1], nullptr, 10);
    else if (flag == "--seed")
      seed = std::strtoul(argv[i + 1], nullptr, 10);
  }
  std::vector<std::string> corpus;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    if (!entry.is_regular_file())
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no corpus files in %s\n", argv[1]);
    return 2;
  }
  for (const auto& input : corpus)
    run(input);

  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  constexpr std::size_t fragment_count = sizeof fragments / sizeof fragments[0];
  for (long m = 0; m < mutations; ++m) {
    std::string s = corpus[pick(corpus.size())];
    const int edits = 1 + static_cast<int>(pick(4));
    for (int e = 0; e < edits; ++e) {
      switch (pick(6)) {
        case 0:  // flip a byte
          if (!s.empty())
            s[pick(s.size())] = static_cast<char>(rng());
          break;
        case 1:  // insert a fragment
          s.insert(pick(s.size() + 1), fragments[pick(fragment_count)]);
          break;
        case 2: {  // delete a range
          if (s.empty())
            break;
          std::size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<std::size_t>(16, s.size() - at)));
          break;
        }
        case 3: {  // splice with another corpus entry
          const std::string& other = corpus[pick(corpus.size())];
          std::size_t cut = pick(s.size() + 1);
          std::size_t from = pick(other.size() + 1);
          s = s.substr(0, cut) + other.substr(from);
          break;
        }
        case 4:  // duplicate a range (deepens nesting, lengthens lists)
          if (!s.empty()) {
            std::size_t at = pick(s.size());
            std::size_t len = 1 + pick(std::min<std::size_t>(32, s.size() - at));
            s.insert(at, s.substr(at, len));
          }
          break;
        default:  // truncate
          s.resize(pick(s.size() + 1));
          break;
      }
    }
    run(s);
  }
  std::printf("soql_fuzz_replay: %zu corpus inputs, %ld mutations, seed %lu: no finding\n", corpus.size(),
              mutations, seed);
  return 0;
}
