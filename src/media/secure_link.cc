#include "media/secure_link.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <optional>
#include <vector>

#include "http/url.h"

namespace reel::media {
namespace {

constexpr int md5_bytes = 16;
constexpr std::string_view base64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::array<unsigned char, md5_bytes> link_digest(std::string_view uri, int64_t expires,
                                                 std::string_view secret, std::string_view client) {
  std::string text = std::to_string(expires);
  text.append(uri).append(client).append(" ").append(secret);
  std::array<unsigned char, md5_bytes> digest{};
  unsigned int length = 0;
  // Fetched once: an implicit fetch per call (EVP_md5()) costs more than the digest itself on
  // OpenSSL 3 (1.7 µs against 0.3 µs a link; docs/benchmarks.md). MD5 is always in the default
  // provider; EVP_Digest fails only on allocation failure.
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  const int ok = EVP_Digest(text.data(), text.size(), digest.data(), &length, md5 ? md5 : EVP_md5(), nullptr);
  (void)ok;
  return digest;
}

std::string base64url(const unsigned char* data, size_t size) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < size; ++i) {
    bits = bits << 8 | data[i];
    for (count += 8; count >= 6; count -= 6) out += base64url_alphabet[bits >> (count - 6) & 63];
  }
  if (count > 0) out += base64url_alphabet[bits << (6 - count) & 63];
  return out;
}

// Decodes unpadded base64url as nginx's ngx_decode_base64url does: the unused low bits of the
// last character are ignored; nullopt for a character outside the alphabet or a length of 4n+1.
std::optional<std::string> decode_base64url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const size_t value = base64url_alphabet.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    bits = bits << 6 | static_cast<uint32_t>(value);
    if ((count += 6) >= 8) {
      count -= 8;
      out += static_cast<char>(bits >> count & 0xff);
    }
  }
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// True for "https://...", "data:...": a reference with a scheme is not ours to sign.
bool has_scheme(std::string_view ref) {
  for (size_t i = 0; i < ref.size(); ++i) {
    const char c = ref[i];
    if (c == ':') return i > 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) return false;
  }
  return false;
}

// RFC 3986 5.2.4 dot-segment removal on a decoded absolute path, with empty segments merged as
// nginx's merge_slashes does.
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      if (last) segments.emplace_back();
    } else if (segment == "." || segment.empty()) {
      if (last) segments.emplace_back();
    } else {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& segment : segments) out.append("/").append(segment);
  return out.empty() ? "/" : out;
}

// `ref` (a URI reference in a file served at `base_uri`) with the signature of the path it
// resolves to, before its fragment; unchanged when it has a scheme or does not decode.
std::string signed_reference(std::string_view ref, std::string_view base_uri, int64_t expires,
                             std::string_view secret, std::string_view client) {
  if (ref.empty() || has_scheme(ref) || ref.substr(0, 2) == "//") return std::string(ref);
  const size_t hash = ref.find('#');
  const std::string_view fragment = hash == std::string_view::npos ? std::string_view{} : ref.substr(hash);
  const std::string_view without_fragment = ref.substr(0, hash);
  const size_t question = without_fragment.find('?');
  const std::string_view path = without_fragment.substr(0, question);
  auto decoded = http::percent_decode(path);
  if (!decoded || decoded->empty()) return std::string(ref);
  std::string absolute;
  if (decoded->front() == '/') {
    absolute = *decoded;
  } else {
    absolute = std::string(base_uri.substr(0, base_uri.rfind('/') + 1)) + *decoded;
  }
  std::string out(without_fragment);
  out += question == std::string_view::npos ? '?' : '&';
  out += sign(normalize_path(absolute), expires, secret, client);
  out += fragment;
  return out;
}

// Applies `rewrite` to each line of `text` (without its "\n" or "\r\n", which are kept).
std::string rewrite_lines(std::string_view text,
                          const std::function<std::string(std::string_view)>& rewrite) {
  std::string out;
  out.reserve(text.size() * 2);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const bool has_newline = end != std::string_view::npos;
    if (!has_newline) end = text.size();
    std::string_view line = text.substr(start, end - start);
    const bool cr = !line.empty() && line.back() == '\r';
    if (cr) line.remove_suffix(1);
    out += rewrite(line);
    if (cr) out += '\r';
    if (has_newline) out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string_view to_string(LinkCheck check) {
  switch (check) {
    case LinkCheck::ok:
      return "ok";
    case LinkCheck::expired:
      return "expired";
    case LinkCheck::bad:
      break;
  }
  return "bad";
}

std::string secure_link_md5(std::string_view uri, int64_t expires, std::string_view secret,
                            std::string_view client) {
  const auto digest = link_digest(uri, expires, secret, client);
  return base64url(digest.data(), digest.size());
}

std::string sign(std::string_view uri, int64_t expires, std::string_view secret, std::string_view client) {
  return "md5=" + secure_link_md5(uri, expires, secret, client) + "&expires=" + std::to_string(expires);
}

LinkCheck verify(std::string_view uri, std::string_view md5, std::string_view expires,
                 std::string_view secret, int64_t now, std::string_view client) {
  // nginx: at most 24 characters, '=' padding tolerated, 16 bytes once decoded.
  if (md5.empty() || md5.size() > 24) return LinkCheck::bad;
  while (!md5.empty() && md5.back() == '=') md5.remove_suffix(1);
  const auto given = decode_base64url(md5);
  if (!given || given->size() != md5_bytes) return LinkCheck::bad;
  int64_t expiry = 0;
  const auto [end, error] = std::from_chars(expires.data(), expires.data() + expires.size(), expiry);
  if (expires.empty() || error != std::errc() || end != expires.data() + expires.size() || expiry <= 0 ||
      expires.front() == '-' || expires.front() == '+') {
    return LinkCheck::bad;
  }
  const auto expected = link_digest(uri, expiry, secret, client);
  if (CRYPTO_memcmp(given->data(), expected.data(), md5_bytes) != 0) return LinkCheck::bad;
  return expiry < now ? LinkCheck::expired : LinkCheck::ok;
}

int64_t link_expiry(int64_t now, int64_t ttl_s, int64_t step_s) {
  const int64_t at = now + ttl_s;
  if (step_s <= 1) return at;
  return (at + step_s - 1) / step_s * step_s;
}

std::string sign_playlist(std::string_view playlist, std::string_view playlist_uri, int64_t expires,
                          std::string_view secret, std::string_view client) {
  return rewrite_lines(playlist, [&](std::string_view line) {
    if (line.empty()) return std::string();
    if (line.front() != '#') return signed_reference(line, playlist_uri, expires, secret, client);
    // Tags: every URI="..." attribute (EXT-X-MAP, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF, ...).
    std::string out;
    size_t copied = 0;
    constexpr std::string_view attribute = "URI=\"";
    for (size_t at; (at = line.find(attribute, copied)) != std::string_view::npos;) {
      const size_t value = at + attribute.size();
      const size_t close = line.find('"', value);
      if (close == std::string_view::npos) break;
      out.append(line.substr(copied, value - copied));
      out += signed_reference(line.substr(value, close - value), playlist_uri, expires, secret, client);
      copied = close;
    }
    out.append(line.substr(copied));
    return out;
  });
}

std::string sign_vtt(std::string_view vtt, std::string_view vtt_uri, int64_t expires, std::string_view secret,
                     std::string_view client) {
  bool in_cue = false;
  return rewrite_lines(vtt, [&](std::string_view line) {
    if (line.empty()) {
      in_cue = false;
    } else if (line.find("-->") != std::string_view::npos) {
      in_cue = true;
    } else if (in_cue && std::find_if(line.begin(), line.end(), is_space) == line.end()) {
      return signed_reference(line, vtt_uri, expires, secret, client);
    }
    return std::string(line);
  });
}

}  // namespace reel::media
