// End to end: a worker killed mid-transcode loses nothing. A real redis-server, SQLite, `reel
// serve` taking the upload, and two `reel worker` processes with a 3-second visibility timeout;
// the worker that claimed the job is SIGKILLed (the worker alone) once job:{id} shows progress and
// its ffmpeg runs. Its ffmpeg must die with it (none of its process group is left), and the other
// worker must reclaim the job and finish it: the video ends ready, listed once, no job left.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "jobs/progress.h"
#include "process/child.h"
#include "projection/keys.h"
#include "redis/blocking_client.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/reel_up.h"  // reel_binary, read_file, upload_clip
#include "support/suite_redis.h"
#include "transcode/test_clip.h"
#include "transcode/transcoder.h"

namespace reel {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::eventually;

using testing::reel_binary;

// Processes (zombies too) in process group `group`, and their names, from /proc/PID/stat:
// "PID (NAME) STATE PPID PGRP ...".
std::map<pid_t, std::string> processes_in_group(pid_t group) {
  std::map<pid_t, std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;  // not a process
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3 || pgrp != group)
      continue;
    found.emplace(static_cast<pid_t>(std::stol(stat.substr(0, open))),
                  stat.substr(open + 1, close - open - 1));
  }
  return found;
}

using testing::read_file;

class WorkerKill : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.start().ok()) << "redis-server did not start";
    port_ = testing::free_port();
    fs::create_directories(dir_.path() / "media");
    config_ = dir_.path() / "reel.toml";
    std::ofstream(config_) << "[server]\nlisten = \"127.0.0.1:" << port_ << "\"\n"
                           << "[redis]\nwrite = \"127.0.0.1:" << redis_.server()->endpoint().port << "\"\n"
                           << "[sql]\nurl = \"sqlite:" << (dir_.path() / "reel.db").string() << "\"\n"
                           << "[paths]\nmedia = \"" << (dir_.path() / "media").string() << "\"\n"
                           << "[views]\nsink = \"none\"\n"
                           << "[worker]\nvisibility_timeout_ms = 3000\n";
    ASSERT_EQ(run({"migrate"}, "migrate.log"), 0) << read_file(dir_.path() / "migrate.log");
    ASSERT_EQ(run({"admin", "token"}, "token.log"), 0) << read_file(dir_.path() / "token.log");
    token_ = read_file(dir_.path() / "token.log");
    if (!token_.empty()) token_.pop_back();
    redis::ConnectionOptions connection;
    connection.endpoint = redis_.server()->endpoint();
    auto client = redis::BlockingClient::connect(connection);
    ASSERT_TRUE(client) << client.error().message;
    client_.emplace(std::move(*client));
  }

  void TearDown() override {
    workers_.clear();  // SIGTERM, then SIGKILL after the grace period; reaped
    serve_.reset();
    EXPECT_TRUE(redis_.stop().ok());
  }

  // Runs `reel <args> --config <file>` to its end; its exit code, -1 when it did not end.
  int run(std::vector<std::string> args, const std::string& log) {
    std::vector<std::string> argv{reel_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", config_.string()});
    const std::string log_path = (dir_.path() / log).string();
    auto child = process::Child::spawn({.argv = argv, .stdout_path = log_path, .stderr_path = log_path});
    if (!child) return -1;
    auto status = child->wait_for(5min);
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  // Starts `reel <args> --config <file>` in a process group of its own, with these extra variables.
  process::Child start(std::vector<std::string> args, const std::string& log,
                       std::vector<std::string> env = {}) {
    std::vector<std::string> argv{reel_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", config_.string()});
    const std::string log_path = (dir_.path() / log).string();
    auto child = process::Child::spawn({.argv = argv,
                                        .stdout_path = log_path,
                                        .stderr_path = log_path,
                                        .extra_env = std::move(env),
                                        .own_process_group = true});
    EXPECT_TRUE(child) << child.error().message;
    return std::move(*child);
  }

  // The consumers holding the queue's pending entries (XPENDING ... - + 10), e.g. "alpha-1".
  std::vector<std::string> holders() {
    std::vector<std::string> out;
    auto pending = client_->execute(redis::Command("XPENDING", projection::keys::media_jobs(),
                                                   projection::keys::media_jobs_group(), "-", "+", 10));
    if (!pending || !pending->is_array()) return out;
    for (const auto& entry : pending->elements()) {
      if (entry.is_array() && entry.elements().size() >= 2) out.emplace_back(entry.elements()[1].str());
    }
    return out;
  }

  std::string logs() {
    std::string out;
    for (const char* name : {"serve.log", "alpha.log", "beta.log"}) {
      out += std::string("--- ") + name + " ---\n" + read_file(dir_.path() / name);
    }
    return out;
  }

  testing::TempDir dir_;
  testing::SuiteRedis redis_;
  uint16_t port_ = 0;
  fs::path config_;
  std::string token_;
  std::optional<redis::BlockingClient> client_;
  std::optional<process::Child> serve_;
  std::map<std::string, process::Child> workers_;
};

TEST_F(WorkerKill, AnotherWorkerFinishesTheJobOfAKilledOne) {
  // 640x480 for 20 s: three renditions, HLS, images and a preview; several seconds of ffmpeg.
  const fs::path clip = dir_.path() / "clip.mp4";
  ASSERT_TRUE(transcode::make_test_clip(clip.string(), {.seconds = 20, .width = 640, .height = 480}).ok());
  serve_.emplace(start({"serve"}, "serve.log"));
  ASSERT_TRUE(eventually(
      [&] {
        auto ready = testing::http_get(port_, "/readyz");
        return (ready && ready->status == 200) || !serve_->running();
      },
      300s));
  ASSERT_TRUE(serve_->running()) << logs();
  for (const std::string name : {"alpha", "beta"}) {
    workers_.emplace(name, start({"worker"}, name + ".log", {"REEL_WORKER_CONSUMER=" + name}));
  }

  const int64_t id = testing::upload_clip(port_, token_, "Survivor", read_file(clip));
  ASSERT_NE(id, 0) << "the upload was acknowledged\n" << logs();

  // Progress shows: one worker holds the job and its ffmpeg runs.
  jobs::JobProgress progress(*client_, SystemClock());
  ASSERT_TRUE(eventually(
      [&] {
        auto record = progress.get(id);
        return record && *record && (*record)->state == jobs::JobState::processing && (*record)->progress > 0;
      },
      300s))
      << logs();
  const auto held_by = holders();
  ASSERT_EQ(held_by.size(), 1u);
  const std::string victim = held_by[0].substr(0, held_by[0].find('-'));
  ASSERT_TRUE(workers_.count(victim)) << held_by[0];
  process::Child& killed = workers_.at(victim);
  // Only the worker is killed, not its process group: its ffmpeg must die with it on its own. This
  // test adopts the orphans (subreaper), so it can reap them and see how they ended.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& [pid, name] : processes_in_group(killed.pid())) {
          if (name == "ffmpeg") return true;
        }
        return false;
      },
      60s))
      << "the worker runs ffmpeg";
  ASSERT_EQ(::kill(killed.pid(), SIGKILL), 0);
  ASSERT_TRUE(killed.wait_for(60s));
  const auto orphans = processes_in_group(killed.pid());
  EXPECT_FALSE(orphans.empty()) << "its ffmpeg, adopted by this test";
  for (const auto& [pid, name] : orphans) {
    int status = 0;
    EXPECT_TRUE(eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 60s))
        << name << " " << pid;
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << name << " " << pid << " outlived the killed worker (exit status " << status << ")";
  }
  EXPECT_TRUE(processes_in_group(killed.pid()).empty()) << "nothing of the dead worker is left";

  // The survivor reclaims it after the visibility timeout and finishes it: a whole transcode from
  // the start, which a 2-core machine busy with other tests may take minutes over. (On a loaded
  // machine the victim may already have marked the video ready before the kill; the survivor then
  // publishes and acks it without a transcode.) Done means acked: with the victim dead, only the
  // survivor can have emptied the queue.
  nlohmann::json doc;
  const auto queue_empty = [&] {
    auto length = client_->execute(redis::Command("XLEN", projection::keys::media_jobs()));
    return length && length->integer() == 0 && holders().empty();
  };
  ASSERT_TRUE(eventually(
      [&] {
        auto r = testing::http_get(port_, "/api/v1/videos/" + std::to_string(id));
        if (!r || r->status != 200) return false;
        doc = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
        return doc.is_object() && doc["status"] != "processing" && queue_empty();
      },
      900s))
      << logs();
  EXPECT_EQ(doc["status"], "ready") << doc.dump() << "\n" << logs();
  EXPECT_EQ(doc["title"], "Survivor");
  EXPECT_EQ(doc["duration"], 20);

  nlohmann::json list;
  EXPECT_TRUE(eventually([&] {  // the read model keeps list pages for a second
    auto listing = testing::http_get(port_, "/api/v1/videos");
    list = listing ? nlohmann::json::parse(listing->body, nullptr, /*allow_exceptions=*/false)
                   : nlohmann::json();
    return list.is_object() && list["total"] == 1;
  })) << list.dump();
  ASSERT_EQ(list["videos"].size(), 1u);
  EXPECT_EQ(list["videos"][0]["id"], id);
  EXPECT_TRUE(fs::is_directory(dir_.path() / "media" / "videos" / std::to_string(id)));
  EXPECT_FALSE(transcode::has_staging((dir_.path() / "media" / "videos" / std::to_string(id)).string()));
}

}  // namespace
}  // namespace reel
