// Signed media URLs in the scheme of nginx's secure_link module, so the nginx origin (deploy/nginx)
// and the app in the embedded mode check the same links:
//
//   md5 = base64url(MD5("{expires}{uri}{client} {secret}")), without '=' padding
//   URL = {uri, percent-encoded}?md5={md5}&expires={expires}
//
// `uri` is the path as nginx's $uri holds it: percent-decoded, normalized, no query string.
// `client` is empty unless links are bound to the viewer's address ($remote_addr). The matching
// nginx configuration (the secret written literally; with a bound address, "$uri$remote_addr "):
//
//   secure_link $arg_md5,$arg_expires;
//   secure_link_md5 "$secure_link_expires$uri SECRET";
//   if ($secure_link = "")  { return 403; }   # missing or wrong md5
//   if ($secure_link = "0") { return 410; }   # expired
//
// A link is good until its `expires` second has passed (nginx: expired when expires < now).
// HLS playlists and the sprite's WebVTT name other files by relative URIs; sign_playlist and
// sign_vtt rewrite those references into signed ones, so a player that fetched a signed playlist
// fetches signed segments.
// Thread-safety: pure functions. Failure: verify answers bad for anything malformed; nothing throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reel::media {

enum class LinkCheck { ok, expired, bad };
std::string_view to_string(LinkCheck check);  // "ok", "expired", "bad"

// The md5 parameter: 22 characters of base64url.
std::string secure_link_md5(std::string_view uri, int64_t expires, std::string_view secret,
                            std::string_view client = {});

// The query string "md5=...&expires=..." to append to the URI's URL.
std::string sign(std::string_view uri, int64_t expires, std::string_view secret,
                 std::string_view client = {});

// Checks the md5 and expires parameters of a request for `uri` at Unix time `now`, as nginx does:
// bad for a wrong, missing or malformed md5 or a malformed expires (digits only, > 0); expired only
// for a correct md5 whose time has passed. The md5 comparison takes constant time.
LinkCheck verify(std::string_view uri, std::string_view md5, std::string_view expires,
                 std::string_view secret, int64_t now, std::string_view client = {});

// The expiry for links made at `now` that must stay valid for at least `ttl_s`: rounded up to a
// multiple of `step_s`, so every page rendered within one step carries the same URLs (cacheable).
int64_t link_expiry(int64_t now, int64_t ttl_s, int64_t step_s);

// Rewrites every URI of an HLS playlist served at `playlist_uri` (variant and segment lines, and
// URI="..." attributes such as EXT-X-MAP's) to carry a signature for the path it resolves to.
// Relative references stay relative; references with a scheme (https:, data:) or that do not
// decode are left alone. Other lines are copied unchanged.
std::string sign_playlist(std::string_view playlist, std::string_view playlist_uri, int64_t expires,
                          std::string_view secret, std::string_view client = {});

// The same for a WebVTT file served at `vtt_uri`: cue payload lines that are a single URI
// ("sprite.jpg#xywh=0,0,160,90") get the signature before their fragment.
std::string sign_vtt(std::string_view vtt, std::string_view vtt_uri, int64_t expires, std::string_view secret,
                     std::string_view client = {});

}  // namespace reel::media
