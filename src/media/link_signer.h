// LinkSigner: the site's policy for signed media links, on top of secure_link's scheme. Which
// files need a signature, how long a link lives, and the signed URL itself — one place for the
// renderer and the API (which sign), the router (which checks, in the embedded mode) and the
// docs of deploy/nginx (which checks the same files at scale).
//
// Protected: files whose hot-linking costs bandwidth — video (.mp4), HLS playlists and segments
// (.m3u8, .m4s, .ts) and the seek-preview WebVTT (.vtt). Images (posters, thumbnails, sprite
// sheets) stay unsigned: they are small, and CDNs and search engines may cache them freely.
// A link made at `now` expires at least `ttl_s` later, rounded up to a multiple of `step_s`, so
// every page rendered within one step carries the same URLs (pages and cards stay cacheable).
// An empty secret turns signing off: URLs are left as they are and nothing is checked.
// Thread-safety: immutable after construction; every method is safe from any thread (each thread
// keeps a memo of the URLs it signed, since a page signs the same URLs for a whole step).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "media/secure_link.h"

namespace reel::media {

struct LinkPolicy {
  std::string secret;        // empty: links are not signed and not checked
  int64_t ttl_s = 6 * 3600;  // a page outlives its render by this much at least
  int64_t step_s = 3600;     // expiries are rounded up to this
  // The media origin's "scheme://host[:port]" (nginx, deploy/nginx), put before every protected
  // site-relative URL handed out, so video bytes never pass the app servers or the page cache.
  // Empty: URLs stay site-relative (the embedded mode serves /media itself).
  std::string origin;
};

class LinkSigner {
 public:
  LinkSigner() = default;  // signing off
  explicit LinkSigner(LinkPolicy policy);

  bool enabled() const { return !policy_.secret.empty(); }
  // The expiry of links made at `now`.
  int64_t expiry(int64_t now) const;

  // True when the file at `path` (a URL path or a path below the media root) needs a signature.
  static bool protects(std::string_view path);

  // Appends `url` (a site-relative URL path such as "/media/videos/7/720.mp4", no query) to `out`,
  // with "?md5=...&expires=..." when signing is on and the file is protected, and after the
  // policy's origin when it has one and the file is protected. A URL that does not percent-decode
  // is appended unsigned (it names no file anyway).
  void append_url(std::string& out, std::string_view url, int64_t expires) const;
  std::string url(std::string_view url, int64_t expires) const;

  // Checks a request for a protected file: `uri` is the request path (percent-encoded, as sent),
  // `query` its query string. ok when signing is off.
  LinkCheck check(std::string_view uri, std::string_view query, int64_t now) const;
  // The `expires` of a request that passed check(): links inside a playlist or VTT served for it
  // expire with it. 0 when absent.
  static int64_t request_expiry(std::string_view query);

  const std::string& secret() const { return policy_.secret; }

 private:
  LinkPolicy policy_;
  uint64_t id_ = 0;  // process-unique per policy: keys the per-thread memo of signed URLs
};

}  // namespace reel::media
