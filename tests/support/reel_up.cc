#include "support/reel_up.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "support/http_client.h"

namespace reel::testing {

std::string reel_binary() {
  const char* dir = std::getenv("REEL_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/reel";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int64_t views_of(uint16_t port, int64_t id) {
  auto r = http_get(port, "/api/v1/videos/" + std::to_string(id));
  if (!r || r->status != 200) return -1;
  auto doc = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() && doc["views"].is_number_integer() ? doc["views"].get<int64_t>() : -1;
}

Result<std::unique_ptr<ReelUp>> ReelUp::start(const std::filesystem::path& data_dir,
                                              const std::filesystem::path& log,
                                              std::chrono::seconds ready_within) {
  const uint16_t port = free_port();
  auto child = process::Child::spawn({.argv = {reel_binary(), "up", "--data-dir", data_dir.string(),
                                               "--listen", "127.0.0.1:" + std::to_string(port)},
                                      .stdout_path = log.string(),
                                      .stderr_path = log.string()});
  if (!child) return child.error();
  std::unique_ptr<ReelUp> up(new ReelUp(std::move(*child), port));
  const bool ready = eventually(
      [&] {
        auto r = http_get(port, "/readyz");
        return (r && r->status == 200) || !up->child_.running();
      },
      ready_within);
  if (!ready || !up->child_.running()) {
    std::ifstream in(log);
    return Error{"reel up did not become ready; its log:\n" +
                 std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())};
  }
  return up;
}

}  // namespace reel::testing
