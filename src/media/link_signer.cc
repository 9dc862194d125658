#include "media/link_signer.h"

#include <atomic>
#include <charconv>
#include <unordered_map>

#include "http/url.h"

namespace reel::media {

namespace {

// Signed URLs this thread made, by unsigned URL. Signing costs about a microsecond (MD5, decoding,
// allocations) and a watch page signs up to eight URLs that stay the same for a whole link step,
// so a hit saves nearly all of it (docs/benchmarks.md). Emptied when full.
struct SignedUrlMemo {
  struct Entry {
    uint64_t signer = 0;
    int64_t expires = 0;
    std::string signed_url;
  };
  static constexpr size_t capacity = 4096;
  std::unordered_map<std::string, Entry> entries;
};

std::atomic<uint64_t> next_signer_id{1};

}  // namespace

LinkSigner::LinkSigner(LinkPolicy policy) : policy_(std::move(policy)), id_(next_signer_id++) {}

int64_t LinkSigner::expiry(int64_t now) const {
  return link_expiry(now, policy_.ttl_s, policy_.step_s);
}

bool LinkSigner::protects(std::string_view path) {
  const size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) return false;
  const std::string_view extension = path.substr(dot + 1);
  for (std::string_view protected_extension : {"mp4", "m4s", "ts", "m3u8", "vtt"}) {
    if (extension == protected_extension) return true;
  }
  return false;
}

void LinkSigner::append_url(std::string& out, std::string_view url, int64_t expires) const {
  if (url.empty() || !protects(url)) {
    out.append(url);
    return;
  }
  if (!policy_.origin.empty() && url.starts_with('/')) out.append(policy_.origin);
  if (!enabled()) {
    out.append(url);
    return;
  }
  thread_local SignedUrlMemo memo;
  std::string key(url);
  auto found = memo.entries.find(key);
  if (found != memo.entries.end() && found->second.signer == id_ && found->second.expires == expires) {
    out.append(found->second.signed_url);
    return;
  }
  std::string signed_url(url);
  if (auto uri = http::percent_decode(url)) {
    signed_url.push_back('?');
    signed_url.append(sign(*uri, expires, policy_.secret));
  }
  out.append(signed_url);
  if (memo.entries.size() >= SignedUrlMemo::capacity) memo.entries.clear();
  memo.entries.insert_or_assign(std::move(key), SignedUrlMemo::Entry{id_, expires, std::move(signed_url)});
}

std::string LinkSigner::url(std::string_view url, int64_t expires) const {
  std::string out;
  append_url(out, url, expires);
  return out;
}

LinkCheck LinkSigner::check(std::string_view uri, std::string_view query, int64_t now) const {
  if (!enabled()) return LinkCheck::ok;
  auto decoded = http::percent_decode(uri);
  if (!decoded) return LinkCheck::bad;
  const std::string md5 = http::query_param(query, "md5").value_or("");
  const std::string expires = http::query_param(query, "expires").value_or("");
  return verify(*decoded, md5, expires, policy_.secret, now);
}

int64_t LinkSigner::request_expiry(std::string_view query) {
  const std::string text = http::query_param(query, "expires").value_or("");
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace reel::media
