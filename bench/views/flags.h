// Command-line flags of the view benchmarks: "--name value", after the positional argument if any.
#pragma once

#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace reel::views::bench {

// The comma-separated numbers after `name`, or `fallback` when the flag is absent. Flags start at
// argv[first] (after a positional argument by default).
inline std::vector<long long> list_flag(int argc, char** argv, std::string_view name,
                                        std::vector<long long> fallback, int first = 2) {
  for (int i = first; i + 1 < argc; ++i) {
    if (argv[i] != name) continue;
    std::vector<long long> values;
    std::stringstream in(argv[i + 1]);
    for (std::string item; std::getline(in, item, ',');) values.push_back(std::atoll(item.c_str()));
    return values;
  }
  return fallback;
}

inline long long flag(int argc, char** argv, std::string_view name, long long fallback, int first = 2) {
  return list_flag(argc, argv, name, {fallback}, first).front();
}

}  // namespace reel::views::bench
