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

int64_t upload_clip(uint16_t port, const std::string& token, const std::string& title,
                    const std::string& clip) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n" + title +
      "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
      "Content-Type: video/mp4\r\n\r\n" +
      clip + "\r\n--XyZ--\r\n";
  auto created = http_request(port, "POST", "/api/v1/uploads",
                              "Authorization: Bearer " + token +
                                  "\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body);
  if (!created || created->status != 201) return 0;
  auto doc = nlohmann::json::parse(created->body, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() && doc["id"].is_number_integer() ? doc["id"].get<int64_t>() : 0;
}

int64_t views_of(uint16_t port, int64_t id) {
  auto r = http_get(port, "/api/v1/videos/" + std::to_string(id));
  if (!r || r->status != 200) return -1;
  auto doc = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() && doc["views"].is_number_integer() ? doc["views"].get<int64_t>() : -1;
}

Result<std::unique_ptr<ReelUp>> ReelUp::start_fresh(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return start(dir / "data", dir / "up.log");
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
