// A libFuzzer-free driver for the fuzz targets other than SOQL (config, hstore,
// csv): a plain main, built with any compiler, that feeds every file of a corpus
// directory to the target's LLVMFuzzerTestOneInput, then a fixed number of
// pseudo-random mutations of them (byte flips, deletions, duplicated ranges,
// splices with another seed, truncation) from a fixed seed, so a ctest run replays
// every crash ever found and fuzzes a little more, deterministically.
//
//   <target>_replay <corpus-dir> [--mutations N] [--seed S]

#include <algorithm>
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

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir> [--mutations N] [--seed S]\n", argv[0]);
    return 2;
  }
  long mutations = 0;
  unsigned long seed = 20261204;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--mutations")
      mutations = std::strtol(argv[i + 1], nullptr, 10);
    else if (flag == "--seed")
      seed = std::strtoul(argv[i + 1], nullptr, 10);
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1]))
    if (entry.is_regular_file())
      files.push_back(entry.path());
  std::sort(files.begin(), files.end()); // the same order on every machine
  std::vector<std::string> corpus;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    // Say which file is running, so a crash names it.
    std::fprintf(stderr, "%s\r", f.filename().c_str());
    run(corpus.back());
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no corpus files in %s\n", argv[1]);
    return 2;
  }

  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  for (long m = 0; m < mutations; ++m) {
    std::string s = corpus[pick(corpus.size())];
    const int edits = 1 + static_cast<int>(pick(4));
    for (int e = 0; e < edits; ++e) {
      switch (pick(6)) {
        case 0: // flip a byte
          if (!s.empty())
            s[pick(s.size())] = static_cast<char>(rng());
          break;
        case 1: { // insert a slice of another seed
          const std::string& other = corpus[pick(corpus.size())];
          const std::size_t from = pick(other.size() + 1);
          s.insert(pick(s.size() + 1), other.substr(from, 1 + pick(16)));
          break;
        }
        case 2: { // delete a range
          if (s.empty())
            break;
          const std::size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<std::size_t>(16, s.size() - at)));
          break;
        }
        case 3: { // splice with another seed
          const std::string& other = corpus[pick(corpus.size())];
          const std::size_t cut = pick(s.size() + 1);
          s = s.substr(0, cut) + other.substr(pick(other.size() + 1));
          break;
        }
        case 4: // duplicate a range (deeper nesting, longer lists)
          if (!s.empty()) {
            const std::size_t at = pick(s.size());
            s.insert(at, s.substr(at, 1 + pick(std::min<std::size_t>(32, s.size() - at))));
          }
          break;
        default: // truncate
          s.resize(pick(s.size() + 1));
          break;
      }
    }
    run(s);
  }
  std::printf("%s: %zu corpus inputs, %ld mutations, seed %lu: no finding\n", argv[0], corpus.size(), mutations, seed);
  return 0;
}
