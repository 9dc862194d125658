// Stop words per language: words too common to search by, which the index leaves out.
// Thread-safety: constant data.
#pragma once

#include <span>
#include <string_view>

namespace reel::search {

// The stop words of a Snowball language name, sorted (std::ranges::binary_search works), folded
// as the analyzer folds text (lower case, ' as the apostrophe); empty for a language without a
// list. English: Snowball's published English stop list
// (https://snowballstem.org/algorithms/english/stop.txt), reproduced as data.
std::span<const std::string_view> stop_words(std::string_view language);

}  // namespace reel::search
