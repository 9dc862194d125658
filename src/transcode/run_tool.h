// run_tool: runs one ffmpeg or ffprobe process to its end under a time limit and a stop token,
// following ffmpeg's `-progress FILE` output while it waits. The only place the media pipeline
// starts processes (through process::Child: argv vectors, never a shell). The process dies with the
// calling thread (SpawnOptions::die_with_parent): a worker that is SIGKILLed leaves no ffmpeg
// behind, and time_limit is the backstop for one that hangs while its worker lives.
// Thread-safety: run_tool blocks the calling thread until the process has ended and been reaped;
// calls on different threads are independent. on_progress runs on the calling thread.
// Failure: an Error when the program cannot start, overruns its time limit ("<what> timed out
// after N s"), is stopped through the token ("<what> cancelled"), or dies by a signal; in every case
// the process has been killed and reaped before run_tool returns. An exit with a non-zero status is
// not an Error here: the caller reads the status and the captured stderr to say what went wrong.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace reel::transcode {

struct ToolRun {
  std::vector<std::string> argv{};  // argv[0]: the program, looked up on PATH
  std::string working_dir{};        // empty: inherit
  std::string stdout_path{};        // empty: /dev/null; else appended to
  std::string stderr_path{};        // required: appended to, and read back for ToolExit::stderr_text
  // The file named to ffmpeg's -progress, polled while the process runs (empty: none).
  std::string progress_path{};
  std::function<void(double seconds)> on_progress{};  // ffmpeg's out_time, seconds
  std::chrono::milliseconds time_limit = std::chrono::minutes(10);
  std::stop_token stop{};
  std::string what = "processing";  // the activity named in timeout / cancel messages
};

struct ToolExit {
  int exit_code = 0;
  std::string stderr_text{};  // the last 16 KiB of the process's stderr
};

Result<ToolExit> run_tool(const ToolRun& run);

// The start of every ffmpeg command line here: no stdin, errors only, overwrite.
std::vector<std::string> ffmpeg_command(const std::string& program);

// The last non-empty line of a tool's stderr with a leading "URL: " naming `input` removed, so a
// message shown to an uploader does not carry server paths; "" when there is none.
std::string last_error_line(std::string_view stderr_text, std::string_view input = {});

// Incremental reader of an ffmpeg -progress file: returns the newest out_time (seconds) written
// since the last call, or nullopt when there is nothing new. Lines may arrive in pieces.
class ProgressReader {
 public:
  explicit ProgressReader(std::string path) : path_(std::move(path)) {}
  std::optional<double> poll();
  // Parses complete "key=value" lines of `chunk` (after any partial line kept from before).
  std::optional<double> feed(std::string_view chunk);

 private:
  std::string path_{};
  long offset_ = 0;
  std::string partial_{};
};

// "file:/abs/path": a path as an ffmpeg input URL that takes every byte literally (a leading dash,
// a colon, a '%' stay part of the name). Relative paths are made absolute.
std::string file_url(const std::string& path);

// "1 s", "2.5 s", "120 s": a duration as the messages print it.
std::string seconds_text(std::chrono::milliseconds duration);

}  // namespace reel::transcode
