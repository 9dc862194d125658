// A minimal blocking HTTP/1.1 client for tests that drive a real `reel` process: one request per
// connection (Connection: close), the whole response read until the peer closes.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"

namespace reel::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// `extra_headers` is raw header lines, each ending in "\r\n". Fails on connect or read errors
// and when no complete response arrives within `timeout` (generous: a loaded machine is slow).
Result<HttpReply> http_request(uint16_t port, const std::string& method, const std::string& target,
                               const std::string& extra_headers = "",
                               std::chrono::milliseconds timeout = std::chrono::seconds(60));
// The same with a body (Content-Length is added); headers as above.
Result<HttpReply> http_call(uint16_t port, const std::string& method, const std::string& target,
                            const std::string& extra_headers, const std::string& body,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60));
inline Result<HttpReply> http_get(uint16_t port, const std::string& target,
                                  const std::string& extra_headers = "") {
  return http_request(port, "GET", target, extra_headers);
}

// Yields the CPU for a few milliseconds between polls of a condition.
void wait_a_little();

// Polls `fn` until it returns true or `deadline` passes; returns whether it became true. The
// default deadline is generous for a loaded 2-core machine: only a failing test reaches it.
template <class Fn>
bool eventually(Fn&& fn, std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (fn()) return true;
    wait_a_little();
  }
  return fn();
}

}  // namespace reel::testing
