// End to end: uploads with a session on the real `reel up` — an account with the uploader role
// uploads with its cookie and CSRF token (the API, the plain form, the resumable API), the worker
// publishes the video on the account's channel; a plain account is refused (unless [auth] uploads
// = "anyone"); refusals come before the body; the upload limit answers 429 with Retry-After; the
// owner deletes their own video (from the "my videos" page's form) and nobody else's; deleting the
// account takes its videos out of every list and its delete jobs remove their files.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "people_fixture.h"
#include "process/child.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "transcode/test_clip.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using testing::eventually;
using testing::http_get;
using testing::HttpReply;
using testing::json_type;
using testing::read_file;

constexpr std::string_view password = "correct horse battery";

// A multipart/form-data upload body: the text fields, then the file field (if `file` is not
// empty).
std::string multipart(const std::vector<std::pair<std::string, std::string>>& fields,
                      const std::string& file) {
  std::string body;
  for (const auto& [name, value] : fields)
    body += "--B0und\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  if (!file.empty()) {
    body +=
        "--B0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
        "Content-Type: video/mp4\r\n\r\n" +
        file + "\r\n";
  }
  return body + "--B0und--\r\n";
}
constexpr std::string_view multipart_type = "Content-Type: multipart/form-data; boundary=B0und\r\n";

class SessionUploads : public testing::PeopleFixture {
 protected:
  static void SetUpTestSuite() {
    start("session-uploads");
    // Short, so the in-process worker makes it ready in a second or two.
    auto clip = transcode::make_test_clip((*dir_ / "clip.mp4").string(), {.seconds = 2});
    ASSERT_TRUE(clip.ok()) << clip.error().message;
  }

  static std::string clip() { return read_file(*dir_ / "clip.mp4"); }

  // An account made by `reel admin create-user --role ROLE` on the running instance's data dir.
  static std::string create_user(std::string_view base, const std::string& role) {
    const std::string name = fresh_name(base);
    const fs::path log = *dir_ / (name + ".log");
    const std::string command = "printf '%s\\n' '" + std::string(password) + "' | '" +
                                testing::reel_binary() + "' admin create-user --data-dir '" +
                                data_dir().string() + "' --name " + name + " --email " + name +
                                "@example.org --role " + role;
    auto child = process::Child::spawn(
        {.argv = {"/bin/sh", "-c", command}, .stdout_path = log.string(), .stderr_path = log.string()});
    EXPECT_TRUE(child);
    if (!child) return name;
    auto status = child->wait_for(std::chrono::minutes(5));
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_file(log);
    return name;
  }

  // POST /api/v1/uploads of `body` (multipart) with `headers`.
  static HttpReply upload(const std::string& headers, const std::string& body) {
    return call("POST", "/api/v1/uploads", std::string(multipart_type) + headers, body);
  }

  // Uploads the clip titled `title` with the session; the new video's id (0, and a failure, if
  // it was refused).
  static int64_t upload_clip(const Signed& who, const std::string& title) {
    HttpReply created = upload(with(who), multipart({{"title", title}}, clip()));
    EXPECT_EQ(created.status, 201) << created.body;
    auto doc = nlohmann::json::parse(created.body, nullptr, false);
    return doc.is_object() && doc["id"].is_number_integer() ? doc["id"].get<int64_t>() : 0;
  }

  // A request's header alone (Content-Length announces a body that is never sent): the answer
  // proves the server decided without reading the body.
  static HttpReply header_only(const std::string& method, const std::string& target,
                               const std::string& headers) {
    return call(method, target, headers + "Content-Length: 50000000\r\n");
  }

  static nlohmann::json video_document(int64_t id) {
    auto reply = http_get(port(), "/api/v1/videos/" + std::to_string(id));
    return reply && reply->status == 200 ? nlohmann::json::parse(reply->body, nullptr, false)
                                         : nlohmann::json();
  }
  static bool ready(int64_t id) {
    return eventually([&] { return video_document(id).value("status", "") == "ready"; },
                      std::chrono::seconds(120));
  }
  // Whether the newest videos and the channel's page list the video.
  static bool listed_newest(int64_t id) {
    auto reply = http_get(port(), "/api/v1/videos?sort=newest");
    if (!reply || reply->status != 200) return false;
    const auto listing = nlohmann::json::parse(reply->body, nullptr, false);
    if (!listing.is_object()) return false;
    for (const auto& card : listing["videos"])
      if (card["id"] == id) return true;
    return false;
  }
  // Whether Redis itself has the video in the newest list. Pages keep a list up to a second per
  // event loop, so right after a change one loop may still show the list as it was.
  static bool in_newest_list(int64_t id) {
    auto settings = config::load((data_dir() / "reel.toml").string());
    if (!settings) return false;
    auto endpoint = redis::parse_endpoint(settings->redis.write);
    if (!endpoint) return false;
    redis::ConnectionOptions options;
    options.endpoint = *endpoint;
    auto client = redis::BlockingClient::connect(options);
    if (!client) return false;
    auto score = client->execute(redis::Command(
        "ZSCORE", projection::keys::list({projection::ListKind::all, ""}, projection::Sort::newest), id));
    return score && !score->is_nil() && !score->is_error();
  }
  static bool on_channel(const std::string& channel, int64_t id) {
    auto page = http_get(port(), "/channel/" + channel);
    return page && page->status == 200 &&
           page->body.find("/watch/" + std::to_string(id) + "-") != std::string::npos;
  }

  // Files in the uploads directory whose name starts with `prefix` (tmp/: streamed bodies).
  static size_t files_named(const fs::path& dir, std::string_view prefix) {
    size_t count = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      count += entry.path().filename().string().starts_with(prefix) ? 1 : 0;
    return count;
  }
};

TEST_F(SessionUploads, AnUploaderUploadsWithTheSessionOntoTheirChannel) {
  const std::string name = create_user("upl", "uploader");
  Signed uploader = sign_in(name, std::string(password));
  HttpReply page = call("GET", "/upload", with(uploader, false));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<input type=\"hidden\" name=\"csrf\" value=\"" + uploader.csrf + "\">"),
            std::string::npos);

  const int64_t id = upload_clip(uploader, "Made by hand");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(ready(id)) << video_document(id).dump() << read_file(*dir_ / "up.log");
  EXPECT_EQ(video_document(id)["channel"]["name"], name);
  EXPECT_TRUE(eventually([&] { return on_channel(name, id); })) << "shows on the uploader's channel";

  // The plain form (no JavaScript): the token in the field, a redirect to the channel.
  HttpReply form = upload("Cookie: " + uploader.cookie + "\r\n",
                          multipart({{"csrf", uploader.csrf}, {"title", "Sent by a form"}}, clip()));
  EXPECT_EQ(form.status, 303) << form.body;
  EXPECT_EQ(form.header("location"), "/channel/" + name);
}

TEST_F(SessionUploads, AResumableUploadBelongsToTheAccountThatStartedIt) {
  Signed owner = sign_in(create_user("res", "uploader"), std::string(password));
  Signed other = sign_in(create_user("oth", "uploader"), std::string(password));
  const std::string bytes = clip();
  HttpReply created =
      call("POST", "/api/v1/uploads/resumable",
           std::string(json_type) + with(owner) + "Upload-Length: " + std::to_string(bytes.size()) + "\r\n",
           R"({"title": "In pieces"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string location = created.header("location");
  EXPECT_EQ(call("GET", location, with(other, false)).status, 404) << "another account's";
  EXPECT_EQ(call("GET", location, with(owner, false)).status, 200) << "a read needs no CSRF token";
  EXPECT_EQ(call("PATCH", location, with(owner, false) + "Upload-Offset: 0\r\n", bytes).status, 403);
  HttpReply done = call("PATCH", location, with(owner) + "Upload-Offset: 0\r\n", bytes);
  ASSERT_EQ(done.status, 201) << done.body;
  const int64_t id = nlohmann::json::parse(done.body)["id"].get<int64_t>();
  ASSERT_TRUE(ready(id)) << video_document(id).dump();
  EXPECT_EQ(video_document(id)["channel"]["name"],
            nlohmann::json::parse(call("GET", "/api/v1/me", with(owner)).body)["name"]);
}

TEST_F(SessionUploads, APlainAccountMayNotUploadAndRefusalsComeBeforeTheBody) {
  const std::string name = fresh_name("pla");
  ASSERT_EQ(register_user(name).status, 201);
  Signed plain = sign_in(name);
  HttpReply page = call("GET", "/upload", with(plain, false));
  EXPECT_EQ(page.status, 403);
  EXPECT_NE(page.body.find("Your account may not upload videos."), std::string::npos);
  EXPECT_EQ(page.body.find("upload-form"), std::string::npos);
  EXPECT_EQ(call("GET", "/upload", "").status, 303) << "to sign in";

  EXPECT_EQ(header_only("POST", "/api/v1/uploads", std::string(multipart_type) + with(plain)).status, 403);
  EXPECT_EQ(header_only("POST", "/api/v1/uploads", std::string(multipart_type)).status, 401) << "no session";
  EXPECT_EQ(
      header_only("POST", "/api/v1/uploads", std::string(multipart_type) + "Cookie: reel_session=gone\r\n")
          .status,
      401);
  EXPECT_EQ(call("POST", "/api/v1/uploads/resumable",
                 std::string(json_type) + with(plain) + "Upload-Length: 10\r\n", R"({"title": "No"})")
                .status,
            403);
}

TEST_F(SessionUploads, WithoutTheCsrfTokenNothingIsKept) {
  Signed uploader = sign_in(create_user("csr", "uploader"), std::string(password));
  const fs::path uploads = data_dir() / "uploads";
  // The header is checked from the request's header: a wrong one is refused before the body.
  EXPECT_EQ(header_only("POST", "/api/v1/uploads",
                        std::string(multipart_type) + "Cookie: " + uploader.cookie +
                            "\r\nX-CSRF-Token: " + std::string(43, 'A') + "\r\n")
                .status,
            403);
  EXPECT_EQ(header_only("POST", "/api/v1/uploads/resumable",
                        std::string(json_type) + with(uploader, false) + "Upload-Length: 10\r\n")
                .status,
            403)
      << "no token, and not a plain form";
  // A multipart post without the header is a plain form: its field is the token, and it has none.
  HttpReply unsigned_form =
      upload("Cookie: " + uploader.cookie + "\r\n", multipart({{"title", "Forged"}}, clip()));
  EXPECT_EQ(unsigned_form.status, 403) << unsigned_form.body;
  HttpReply wrong_field = upload("Cookie: " + uploader.cookie + "\r\n",
                                 multipart({{"csrf", "nope"}, {"title", "Forged"}}, clip()));
  EXPECT_EQ(wrong_field.status, 403) << wrong_field.body;
  EXPECT_NE(wrong_field.header("content-type").find("text/html"), std::string::npos)
      << "a plain form is answered with a page";
  EXPECT_NE(wrong_field.body.find("CSRF"), std::string::npos) << wrong_field.body;
  EXPECT_EQ(files_named(uploads, "incoming-"), 0u) << "the file was never copied out";
  EXPECT_TRUE(eventually([&] { return files_named(uploads / "tmp", "reel-body-") == 0; }))
      << "and the bodies are deleted";
}

TEST_F(SessionUploads, UploadsAreLimitedPerAccountWithRetryAfter) {
  Signed uploader = sign_in(create_user("lim", "uploader"), std::string(password));
  // Counted when an upload starts, before its form is read: these are refused (400) but count.
  for (int attempt = 0; attempt < 20; ++attempt) {
    HttpReply reply = upload(with(uploader), multipart({{"title", ""}}, "x"));
    ASSERT_EQ(reply.status, 400) << attempt << ": " << reply.body;
  }
  HttpReply limited = header_only("POST", "/api/v1/uploads", std::string(multipart_type) + with(uploader));
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_GE(std::stoi(limited.header("retry-after").empty() ? "0" : limited.header("retry-after")), 1);
  HttpReply limited_form = header_only("POST", "/api/v1/uploads",
                                       std::string(multipart_type) + "Cookie: " + uploader.cookie + "\r\n");
  EXPECT_EQ(limited_form.status, 429);
  EXPECT_NE(limited_form.header("content-type").find("text/html"), std::string::npos)
      << "the plain form gets the page that says so";
  EXPECT_FALSE(limited_form.header("retry-after").empty());
  new_client();
  EXPECT_EQ(call("POST", "/api/v1/uploads/resumable",
                 std::string(json_type) + with(uploader) + "Upload-Length: 10\r\n", R"({"title": "More"})")
                .status,
            429)
      << "per account, from any address, resumable too";
}

TEST_F(SessionUploads, OwnersDeleteTheirOwnVideosAndNobodyElses) {
  Signed owner = sign_in(create_user("own", "uploader"), std::string(password));
  const int64_t id = upload_clip(owner, "Mine to delete");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(ready(id));
  ASSERT_TRUE(eventually([&] { return listed_newest(id); }));
  const std::string target = "/api/v1/videos/" + std::to_string(id);
  const std::string stranger_name = fresh_name("str");
  ASSERT_EQ(register_user(stranger_name).status, 201);
  Signed stranger = sign_in(stranger_name);
  EXPECT_EQ(call("DELETE", target, with(stranger)).status, 403);
  EXPECT_EQ(call("DELETE", target, with(owner, false)).status, 403) << "without the CSRF token";
  EXPECT_EQ(call("DELETE", "/api/v1/videos/999999999", with(owner)).status, 404);
  EXPECT_TRUE(in_newest_list(id)) << "refused deletes change nothing";
  // The owner's "my videos" page lists it with a plain form that deletes it and comes back.
  EXPECT_TRUE(eventually([&] {
    return call("GET", "/me/videos", with(owner, false)).body.find("action=\"" + target + "\"") !=
           std::string::npos;
  }));
  const std::string cookie_only = std::string(testing::form_type) + "Cookie: " + owner.cookie + "\r\n";
  HttpReply forged = call("POST", target, cookie_only, "_method=DELETE&csrf=wrong&next=%2Fme%2Fvideos");
  EXPECT_EQ(forged.status, 403);
  EXPECT_NE(forged.header("content-type").find("text/html"), std::string::npos) << "a form gets a page";
  EXPECT_EQ(call("POST", target, std::string(testing::form_type) + "Cookie: " + stranger.cookie + "\r\n",
                 "_method=DELETE&csrf=" + stranger.csrf)
                .status,
            403);
  HttpReply deleted =
      call("POST", target, cookie_only, "_method=DELETE&csrf=" + owner.csrf + "&next=%2Fme%2Fvideos");
  ASSERT_EQ(deleted.status, 303) << deleted.body;
  EXPECT_EQ(deleted.header("location"), "/me/videos");
  EXPECT_TRUE(eventually([&] { return !listed_newest(id) && http_get(port(), target)->status == 404; }));
  EXPECT_TRUE(eventually([&] { return !fs::exists(data_dir() / "media" / "videos" / std::to_string(id)); }))
      << "its delete job ran";
}

TEST_F(SessionUploads, DeletingTheAccountTakesItsVideosOutOfEveryListAndOffTheDisk) {
  const std::string name = create_user("gon", "uploader");
  Signed uploader = sign_in(name, std::string(password));
  const int64_t id = upload_clip(uploader, "Leaves with its maker");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(ready(id));
  ASSERT_TRUE(eventually([&] { return listed_newest(id) && on_channel(name, id); }));
  const fs::path media = data_dir() / "media" / "videos" / std::to_string(id);
  ASSERT_TRUE(fs::is_directory(media));

  HttpReply deleted = call("DELETE", "/api/v1/me", std::string(json_type) + with(uploader),
                           nlohmann::json{{"password", password}}.dump());
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_TRUE(eventually([&] {
    return !listed_newest(id) && !on_channel(name, id) &&
           http_get(port(), "/api/v1/videos/" + std::to_string(id))->status == 404;
  })) << "out of every list";
  EXPECT_TRUE(eventually([&] { return !fs::exists(media); })) << "its delete job ran\n"
                                                              << read_file(*dir_ / "up.log");
}

// [auth] uploads = "anyone": every signed-in account may upload.
class AnyoneUploads : public SessionUploads {
 protected:
  static void SetUpTestSuite() { start("anyone-uploads", {{"REEL_AUTH_UPLOADS", "anyone"}}); }
};

TEST_F(AnyoneUploads, APlainAccountMayUpload) {
  const std::string name = fresh_name("any");
  ASSERT_EQ(register_user(name).status, 201);
  Signed plain = sign_in(name);
  EXPECT_EQ(call("GET", "/upload", with(plain, false)).status, 200);
  HttpReply created = upload(with(plain), multipart({{"title", "Anyone's"}}, "not really a video"));
  EXPECT_EQ(created.status, 201) << created.body;
}

}  // namespace
}  // namespace reel
