// Test helpers that drive an io_context from a test body: run one task to completion, or run the
// loop until a condition holds. Both give up at a deadline (and fail the test) instead of hanging;
// the default deadline is generous for a loaded 2-core machine, and only a failing test reaches it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include "common/asio.h"

namespace reel::testing {

using namespace std::chrono_literals;

template <class T>
struct TaskState {
  std::optional<T> result;
  bool finished = false;
};

template <class T>
Task<void> store_into(Task<T> task, std::shared_ptr<TaskState<T>> state) {
  state->result.emplace(co_await std::move(task));
}

// Runs `io` until `task` finishes; nullopt (and a test failure) when it does not within `limit`.
template <class T>
std::optional<T> run_task(asio::io_context& io, Task<T> task, std::chrono::milliseconds limit = 60s) {
  auto state = std::make_shared<TaskState<T>>();
  asio::co_spawn(io, store_into(std::move(task), state),
                 [state](std::exception_ptr) { state->finished = true; });
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!state->finished && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  if (!state->result) ADD_FAILURE() << "task did not finish within " << limit.count() << " ms";
  return std::move(state->result);
}

// Runs `io` until `condition` holds, checking after every handler; false when `limit` passes first.
inline bool run_until(asio::io_context& io, const std::function<bool()>& condition,
                      std::chrono::milliseconds limit = 60s) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.run_one_until(deadline);
  }
  return true;
}

}  // namespace reel::testing
