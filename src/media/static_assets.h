// StaticAssets: the site's static files (CSS, JS, images under [paths] static) under versioned
// names, so browsers, CDNs, Varnish and the nginx static origin may keep each one for a year
// without asking again, and a release still reaches every visitor at once: a changed file gets a
// new name.
//
// At start every regular file below the root is hashed (SHA-256; the first 10 hex digits go into
// the name: "css/reel.css" is served as "css/reel.0123456789.css"), and the page templates are
// rewritten once through rewrite(), so rendering costs nothing more. serve() answers a current
// versioned name with `public, max-age=31536000, immutable`; a versioned name whose digits are not
// the file's (a page rendered before a release, still in a cache) with the file's current bytes
// and the short lifetime, never a 404; a plain name as before (short lifetime, revalidated).
// deploy/nginx/static-origin.conf.template maps versioned names the same way for the origin.
//
// Files added after the start are served under their plain names; their versioned names appear
// at the next start. At most max_files files are hashed, each at most max_file_bytes (others
// keep their plain names).
//
// Thread-safety: immutable after open(); serve() and rewrite() may run on every thread at once.
// Failure: open() returns an Error when the root cannot be opened or read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "http/message.h"
#include "media/file_server.h"

namespace reel::media {

struct StaticAssetsOptions {
  std::string root;
  std::string cache_control = "public, max-age=86400";  // plain and stale names
  size_t max_files = 10000;
  uint64_t max_file_bytes = uint64_t{64} << 20;
};

class StaticAssets {
 public:
  static Result<StaticAssets> open(StaticAssetsOptions options);

  // The versioned name of a file below the root ("css/reel.css" → "css/reel.0123456789.css");
  // nullptr for a file it did not hash.
  const std::string* versioned(std::string_view path) const;
  // `text` with every "/static/PATH" whose PATH it hashed replaced by the versioned name (PATH
  // runs to the first character that is not a letter, digit or one of "._-/").
  std::string rewrite(std::string_view text) const;
  // `relative_path` is the URL path below /static/, still percent-encoded. See the file comment.
  http::Response serve(const http::Request& request, std::string_view relative_path) const;

  // The plain name a versioned one stands for ("css/reel.0123456789.css" → "css/reel.css"),
  // whatever its digits; nullopt for a name without the versioned shape.
  static std::optional<std::string> plain_name(std::string_view path);

 private:
  StaticAssets(FileServer plain, FileServer immutable)
      : plain_(std::move(plain)), immutable_(std::move(immutable)) {}

  FileServer plain_;
  FileServer immutable_;
  std::unordered_map<std::string, std::string> versioned_;  // plain name → versioned name
  std::unordered_map<std::string, std::string> current_;    // versioned name → plain name
};

}  // namespace reel::media
