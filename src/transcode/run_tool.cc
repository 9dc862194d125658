#include "transcode/run_tool.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "process/child.h"

namespace reel::transcode {
namespace {

using namespace std::chrono_literals;

constexpr auto poll_interval = 100ms;
constexpr long stderr_keep_bytes = 16 * 1024;

std::string read_tail(const std::string& path, long keep) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const long size = static_cast<long>(in.tellg());
  in.seekg(std::max(0L, size - keep));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string program_name(const ToolRun& run) {
  return run.argv.empty() ? std::string("tool") : run.argv.front();
}

// The Error for a process that ended by a signal we did not send.
Error killed_by_signal(const ToolRun& run, int signal) {
  if (signal == SIGXFSZ) return Error{"cannot write the processed files: file size limit exceeded"};
  return Error{fmt::format("{} was killed by signal {} ({})", program_name(run), signal, strsignal(signal))};
}

}  // namespace

std::vector<std::string> ffmpeg_command(const std::string& program) {
  return {program, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"};
}

std::string file_url(const std::string& path) {
  return "file:" + std::filesystem::absolute(path).string();
}

std::string seconds_text(std::chrono::milliseconds duration) {
  return fmt::format("{:g} s", static_cast<double>(duration.count()) / 1000.0);
}

std::string last_error_line(std::string_view stderr_text, std::string_view input) {
  std::string_view line;
  size_t end = stderr_text.size();
  while (end > 0) {
    size_t start = stderr_text.rfind('\n', end - 1);
    start = start == std::string_view::npos ? 0 : start + 1;
    line = stderr_text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty()) break;
    end = start == 0 ? 0 : start - 1;
  }
  if (!input.empty() && line.size() > input.size() + 2 && line.substr(0, input.size()) == input &&
      line.substr(input.size(), 2) == ": ") {
    line.remove_prefix(input.size() + 2);
  }
  return std::string(line);
}

std::optional<double> ProgressReader::feed(std::string_view chunk) {
  partial_.append(chunk);
  std::optional<double> newest;
  size_t start = 0;
  for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(partial_.data() + start, nl - start);
    constexpr std::string_view key = "out_time_us=";
    if (line.substr(0, key.size()) != key) continue;
    long long micros = 0;
    // "N/A" before the first frame is skipped; sscanf stops at the first non-digit.
    if (std::sscanf(std::string(line.substr(key.size())).c_str(), "%lld", &micros) == 1 && micros >= 0) {
      newest = static_cast<double>(micros) / 1e6;
    }
  }
  partial_.erase(0, start);
  return newest;
}

std::optional<double> ProgressReader::poll() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return std::nullopt;
  in.seekg(offset_);
  std::string chunk(std::istreambuf_iterator<char>(in), {});
  offset_ += static_cast<long>(chunk.size());
  return feed(chunk);
}

Result<ToolExit> run_tool(const ToolRun& run) {
  auto child = process::Child::spawn({.argv = run.argv,
                                      .working_dir = run.working_dir,
                                      .stdout_path = run.stdout_path.empty() ? "/dev/null" : run.stdout_path,
                                      .stderr_path = run.stderr_path,
                                      .die_with_parent = true});
  if (!child)
    return Error{fmt::format("cannot start {} (install the ffmpeg package): {}", program_name(run),
                             child.error().message)};
  std::optional<ProgressReader> progress;
  if (!run.progress_path.empty()) progress.emplace(run.progress_path);
  auto report = [&] {
    if (!progress || !run.on_progress) return;
    if (auto seconds = progress->poll()) run.on_progress(*seconds);
  };

  const auto deadline = std::chrono::steady_clock::now() + run.time_limit;
  std::optional<int> status;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if ((status = child->wait_for(std::clamp<std::chrono::milliseconds>(left, 0ms, poll_interval)))) break;
    report();
    // The outputs of a run that is cut short are thrown away, so there is nothing to wait for:
    // stop(0) sends SIGTERM and then SIGKILL at once (a process blocked in open() ignores SIGTERM).
    if (run.stop.stop_requested()) {
      child->stop(0ms);
      return Error{run.what + " cancelled"};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      child->stop(0ms);
      return Error{fmt::format("{} timed out after {}", run.what, seconds_text(run.time_limit))};
    }
  }
  report();
  if (WIFSIGNALED(*status)) return killed_by_signal(run, WTERMSIG(*status));
  return ToolExit{WIFEXITED(*status) ? WEXITSTATUS(*status) : -1,
                  read_tail(run.stderr_path, stderr_keep_bytes)};
}

}  // namespace reel::transcode
