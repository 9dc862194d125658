#include "config/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <vector>

#ifndef REEL_SHARE_DIR
#error "REEL_SHARE_DIR must name the folder holding templates/ and static/"
#endif

namespace reel::config {
namespace {

// One setting: where it lives in the file, and how to read it from a TOML node or a string.
struct Setting {
  std::string_view section;
  std::string_view key;
  std::function<Status(const toml::node&)> from_toml;
  std::function<Status(std::string_view)> from_text;
  std::function<std::string()> to_text;
};

// A TOML basic string.
std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char ch : value) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(ch));
    } else {
      out += ch;
    }
  }
  return out + '"';
}

Setting text(std::string_view section, std::string_view key, std::string& target) {
  return {section, key,
          [&target, section, key](const toml::node& node) -> Status {
            auto value = node.value<std::string>();
            if (!value) return Error{fmt::format("[{}] {} must be a string", section, key)};
            target = *value;
            return {};
          },
          [&target](std::string_view value) -> Status {
            target = value;
            return {};
          },
          [&target] { return quoted(target); }};
}

// A text setting that must be one of `allowed`.
Setting choice(std::string_view section, std::string_view key, std::string& target,
               std::vector<std::string_view> allowed) {
  Setting setting = text(section, key, target);
  auto check = [&target, section, key, allowed = std::move(allowed)](Status read) -> Status {
    if (!read) return read;
    if (std::find(allowed.begin(), allowed.end(), target) != allowed.end()) return {};
    return Error{fmt::format("[{}] {} must be one of: {}", section, key, fmt::join(allowed, ", "))};
  };
  setting.from_toml = [check, read = setting.from_toml](const toml::node& node) { return check(read(node)); };
  setting.from_text = [check, read = setting.from_text](std::string_view value) {
    return check(read(value));
  };
  return setting;
}

template <class Int>
Setting number(std::string_view section, std::string_view key, Int& target) {
  auto check = [&target, section, key](int64_t value) -> Status {
    if (value < 0) return Error{fmt::format("[{}] {} must not be negative", section, key)};
    target = static_cast<Int>(value);
    return {};
  };
  return {section, key,
          [check, section, key](const toml::node& node) -> Status {
            auto value = node.value<int64_t>();
            if (!value) return Error{fmt::format("[{}] {} must be an integer", section, key)};
            return check(*value);
          },
          [check, section, key](std::string_view text_value) -> Status {
            char* end = nullptr;
            std::string copy(text_value);
            long long value = std::strtoll(copy.c_str(), &end, 10);
            if (copy.empty() || *end != '\0') {
              return Error{fmt::format("[{}] {} must be an integer, not '{}'", section, key, copy)};
            }
            return check(value);
          },
          [&target] { return std::to_string(target); }};
}

std::vector<Setting> settings(Config& c) {
  return {
      text("server", "listen", c.server.listen),
      number("server", "threads", c.server.threads),
      number("server", "max_header_bytes", c.server.max_header_bytes),
      number("server", "max_body_bytes", c.server.max_body_bytes),
      number("server", "max_connections", c.server.max_connections),
      number("server", "header_timeout_ms", c.server.header_timeout_ms),
      number("server", "idle_timeout_ms", c.server.idle_timeout_ms),
      number("server", "drain_timeout_ms", c.server.drain_timeout_ms),
      text("server", "access_log", c.server.access_log),
      number("server", "trusted_proxy_hops", c.server.trusted_proxy_hops),
      number("server", "max_upload_bytes", c.server.max_upload_bytes),
      number("server", "resumable_max_idle_s", c.server.resumable_max_idle_s),
      number("server", "file_threads", c.server.file_threads),
      text("redis", "write", c.redis.write),
      text("redis", "read", c.redis.read),
      text("redis", "sessions", c.redis.sessions),
      text("redis", "sessions_read", c.redis.sessions_read),
      text("redis", "password", c.redis.password),
      number("redis", "command_timeout_ms", c.redis.command_timeout_ms),
      number("redis", "grace_s", c.redis.grace_s),
      number("redis", "read_your_writes_s", c.redis.read_your_writes_s),
      text("sql", "url", c.sql.url),
      text("sql", "read_url", c.sql.read_url),
      number("sql", "pool_threads", c.sql.pool_threads),
      text("paths", "templates", c.paths.templates),
      text("paths", "static", c.paths.static_files),
      text("paths", "media", c.paths.media),
      text("paths", "uploads", c.paths.uploads),
      text("site", "name", c.site.name),
      text("site", "url", c.site.url),
      text("views", "sink", c.views.sink),
      text("views", "secret", c.views.secret),
      number("views", "flush_ms", c.views.flush_ms),
      number("views", "dedupe_minutes", c.views.dedupe_minutes),
      number("worker", "slots", c.worker.slots),
      text("worker", "consumer", c.worker.consumer),
      number("worker", "visibility_timeout_ms", c.worker.visibility_timeout_ms),
      text("media", "link_secret", c.media.link_secret),
      number("media", "link_ttl_s", c.media.link_ttl_s),
      number("media", "link_step_s", c.media.link_step_s),
      text("media", "origin", c.media.origin),
      text("auth", "secret", c.auth.secret),
      number("auth", "hash_threads", c.auth.hash_threads),
      choice("auth", "uploads", c.auth.uploads, {"uploaders", "anyone"}),
      number("auth", "uploads_per_hour", c.auth.uploads_per_hour),
      number("auth", "uploads_per_hour_per_address", c.auth.uploads_per_hour_per_address),
      text("varnish", "purge_nodes", c.varnish.purge_nodes),
      number("varnish", "purge_repeat_ms", c.varnish.purge_repeat_ms),
  };
}

std::string env_name(const Setting& s) {
  std::string name = fmt::format("REEL_{}_{}", s.section, s.key);
  for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return name;
}

}  // namespace

Status apply_environment(Config& config) {
  for (auto& setting : settings(config)) {
    const std::string name = env_name(setting);
    if (const char* value = std::getenv(name.c_str())) {
      if (auto s = setting.from_text(value); !s) return Error{fmt::format("{}: {}", name, s.error().message)};
    }
  }
  return {};
}

Result<Config> load(const std::string& path) {
  Config config;
  config.paths.templates = REEL_SHARE_DIR "/templates";
  config.paths.static_files = REEL_SHARE_DIR "/static";
  if (!path.empty()) {
    toml::table table;
    try {
      table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      return Error{fmt::format("{}: line {}: {}", path, e.source().begin.line, e.description())};
    }
    for (auto& setting : settings(config)) {
      const toml::node* node = table.at_path(fmt::format("{}.{}", setting.section, setting.key)).node();
      if (!node) continue;
      if (auto s = setting.from_toml(*node); !s) return Error{fmt::format("{}: {}", path, s.error().message)};
    }
  }
  if (auto s = apply_environment(config); !s) return s.error();
  return config;
}

std::string to_toml(const Config& config) {
  Config copy = config;
  std::string out;
  std::string_view section;
  for (auto& setting : settings(copy)) {
    if (setting.section != section) {
      section = setting.section;
      out += fmt::format("{}[{}]\n", out.empty() ? "" : "\n", section);
    }
    out += fmt::format("{} = {}\n", setting.key, setting.to_text());
  }
  return out;
}

}  // namespace reel::config
