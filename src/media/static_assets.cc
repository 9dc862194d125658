#include "media/static_assets.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/text.h"

namespace reel::media {
namespace {

namespace fs = std::filesystem;

constexpr size_t version_digits = 10;

bool is_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool is_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '/';
}

// The first version_digits hex digits of the SHA-256 of a file; nullopt when it cannot be read.
std::optional<std::string> digest_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) return std::nullopt;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) return std::nullopt;
  return to_hex(std::span<const unsigned char>(digest, size)).substr(0, version_digits);
}

// "css/reel.css" + digits → "css/reel.<digits>.css"; a name without an extension gets the digits
// at its end ("LICENSE.<digits>"), which plain_name() does not undo, so such files keep their
// plain names.
std::optional<std::string> with_version(const std::string& path, const std::string& digits) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == slash + 1) {
    return std::nullopt;
  }
  return path.substr(0, dot) + "." + digits + path.substr(dot);
}

}  // namespace

std::optional<std::string> StaticAssets::plain_name(std::string_view path) {
  const size_t ext_dot = path.rfind('.');
  if (ext_dot == std::string_view::npos || ext_dot < version_digits + 2) return std::nullopt;
  const size_t version_dot = ext_dot - version_digits - 1;
  if (path[version_dot] != '.' || !is_hex(path.substr(version_dot + 1, version_digits))) return std::nullopt;
  if (version_dot == 0 || path[version_dot - 1] == '/') return std::nullopt;
  const std::string_view extension = path.substr(ext_dot + 1);
  if (extension.empty() || extension.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(path.substr(0, version_dot)) + std::string(path.substr(ext_dot));
}

Result<StaticAssets> StaticAssets::open(StaticAssetsOptions options) {
  auto plain = FileServer::open({options.root, options.cache_control});
  if (!plain) return plain.error();
  auto immutable = FileServer::open({options.root, "public, max-age=31536000, immutable"});
  if (!immutable) return immutable.error();
  StaticAssets assets(std::move(*plain), std::move(*immutable));
  std::error_code error;
  const fs::path root(options.root);
  fs::recursive_directory_iterator it(root, error), end;
  if (error) return Error{"cannot read " + options.root + ": " + error.message()};
  for (; it != end && assets.versioned_.size() < options.max_files; it.increment(error)) {
    if (error) return Error{"cannot read " + options.root + ": " + error.message()};
    if (!it->is_regular_file(error) || it->is_symlink(error) ||
        it->file_size(error) > options.max_file_bytes) {
      continue;
    }
    const std::string name = it->path().lexically_relative(root).generic_string();
    if (plain_name(name)) continue;  // already of the versioned shape: it keeps its name
    auto digits = digest_of(it->path());
    auto versioned = digits ? with_version(name, *digits) : std::nullopt;
    if (!versioned) continue;
    assets.current_.emplace(*versioned, name);
    assets.versioned_.emplace(name, std::move(*versioned));
  }
  return assets;
}

const std::string* StaticAssets::versioned(std::string_view path) const {
  auto found = versioned_.find(std::string(path));
  return found == versioned_.end() ? nullptr : &found->second;
}

std::string StaticAssets::rewrite(std::string_view text) const {
  static constexpr std::string_view prefix = "/static/";
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (size_t found; (found = text.find(prefix, at)) != std::string_view::npos;) {
    const size_t start = found + prefix.size();
    size_t stop = start;
    while (stop < text.size() && is_path_char(text[stop])) ++stop;
    out.append(text.substr(at, start - at));
    const std::string* name = versioned(text.substr(start, stop - start));
    out.append(name != nullptr ? std::string_view(*name) : text.substr(start, stop - start));
    at = stop;
  }
  out.append(text.substr(at));
  return out;
}

http::Response StaticAssets::serve(const http::Request& request, std::string_view relative_path) const {
  if (auto current = current_.find(std::string(relative_path)); current != current_.end()) {
    return immutable_.serve(request, current->second);
  }
  if (auto plain = plain_name(relative_path); plain && versioned_.contains(*plain)) {
    return plain_.serve(request, *plain);  // stale digits: the current bytes, briefly cached
  }
  return plain_.serve(request, relative_path);
}

}  // namespace reel::media
