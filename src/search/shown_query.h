// The spelling of a visitor's query that popular searches count and show (views/event.h
// SearchEvent, the search:popular zset): one entry for the queries people would call the same.
//
// shown_query(text, max_bytes):
//  1. reads at most 4 * max_bytes bytes of `text` (cut at a character boundary), so a 10 KB query
//     costs no more than a short one;
//  2. folds it with ICU's NFKC_Casefold: "Funny Cats", "FUNNY cats" and full-width ＦＵＮＮＹ
//     are one entry; ligatures come apart; zero-width and bidi format characters go. Accents stay
//     (they are spelling as shown; completion compares without them);
//  3. turns each run of white space, control characters (C0, DEL, C1) and ill-formed UTF-8 into
//     one space, and trims the ends;
//  4. cuts the result to max_bytes at a character boundary, and trims again.
// The result is strict UTF-8 without control characters or bidi overrides (it passes
// common/text.h's user_text_chars(Lines::one)), at most max_bytes, and empty when nothing is left.
// It holds no line breaks; any other character may appear (the event line encodes it).
//
// Thread-safety: pure; ICU's normalizer instance is shared and thread-safe, so any thread may call
// it at any time. Failure: none; if ICU cannot load its data the non-ASCII part of the text is
// dropped (the ASCII fast path does not need ICU).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace reel::search {

std::string shown_query(std::string_view text, size_t max_bytes);

}  // namespace reel::search
