// A server with one fixed HTML page (~20 KB unless a size is given), for measuring the request
// rate of the HTTP layer alone:
//   taskset -c 0 http_hello_server [port] [threads] [page_bytes] &
//   taskset -c 1 wrk -t1 -c64 -d5s http://127.0.0.1:PORT/
// With an upload dir, POST and PUT bodies stream to files there (answered with their size and
// removed), for measuring the memory and speed of large uploads:
//   http_hello_server PORT 1 20480 /var/tmp/uploads &
//   curl -T big.file http://127.0.0.1:PORT/upload; grep VmHWM /proc/$!/status
// Not installed and not a test. Stops on SIGINT/SIGTERM.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

#include "http/server.h"

namespace {

reel::Task<reel::http::Response> hello(const reel::http::Request& request, const std::string& page) {
  if (!request.body_file.empty()) {
    co_return reel::http::Response::text(200, "stored " + std::to_string(request.body_bytes) + " bytes\n");
  }
  reel::http::Response response = reel::http::Response::html(200, page);
  response.route = "hello";
  co_return response;
}

}  // namespace

int main(int argc, char** argv) {
  reel::http::ServerOptions options;
  options.port = argc > 1 ? static_cast<uint16_t>(std::atoi(argv[1])) : 0;
  options.threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const size_t page_bytes = argc > 3 ? static_cast<size_t>(std::atol(argv[3])) : 20 * 1024;
  if (argc > 4) {
    options.upload_temp_dir = argv[4];
    options.body_to_file = [](const reel::http::Request& head) {
      return head.method == "POST" || head.method == "PUT";
    };
  }
  std::string page = "<!doctype html><html><body>";
  while (page.size() < page_bytes)
    page += "<div class=\"card\"><a href=\"/watch/12345\">A video title</a></div>\n";
  page += "</body></html>";
  page.resize(page_bytes);
  reel::http::Server server(options, [&page](reel::asio::io_context&, int) -> reel::http::Handler {
    return [&page](const reel::http::Request& request) { return hello(request, page); };
  });
  if (auto bound = server.bind(); !bound) {
    spdlog::error("{}", bound.error().message);
    return 1;
  }
  spdlog::info("listening on 127.0.0.1:{}", server.port());
  if (auto ran = server.run(); !ran) {
    spdlog::error("{}", ran.error().message);
    return 1;
  }
  return 0;
}
