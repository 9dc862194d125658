// The session of the HTTP server (see session.h): one client connection's keep-alive request loop.
// It reads a request with deadlines, lets answer_before_body answer from the header, streams a large
// body to a file (body_file.h) or reads it into memory, hands the request to the pure Handler, and
// writes the response (with sendfile for file bodies), then closes gracefully. Request handling
// itself lives in the Handler; this file only moves bytes, so it is the one place Beast is compiled.
#include "http/detail/session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/sendfile.h>

#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <memory_resource>
#include <optional>

#include "common/asio.h"
#include "common/text.h"
#include "http/detail/body_file.h"
#include "http/detail/loop.h"
#include "http/message.h"

namespace reel::http::detail {

namespace {

namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// Bytes asked of the socket per read: a typical request header fits in one read.
constexpr size_t read_chunk_bytes = 8 * 1024;
// Per read of a body streamed to a file: larger reads mean fewer system calls per gigabyte, and this
// is all the memory such a body costs.
constexpr size_t file_body_read_chunk_bytes = 64 * 1024;
// Per-connection arena for the header fields of the current request and response; larger headers
// spill into the heap until the next request.
constexpr size_t field_arena_bytes = 4 * 1024;
// After a final response, unread request bytes are drained for this long (or this many bytes) so the
// close does not reset the connection before the client has read the response.
constexpr std::chrono::milliseconds linger_timeout{1000};
constexpr size_t linger_max_bytes = 64 * 1024;
// One sendfile(2) call sends at most this much; between chunks the loop serves other connections.
constexpr size_t sendfile_chunk_bytes = 1024 * 1024;

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

// Beast's header fields allocate one element per field; these live in the connection's arena, which
// is reset per request, so headers cost no malloc in steady state.
using FieldAllocator = std::pmr::polymorphic_allocator<char>;
using RequestParser = bhttp::request_parser<bhttp::string_body, FieldAllocator>;
using ResponseMessage = bhttp::response<bhttp::string_body, bhttp::basic_fields<FieldAllocator>>;
// The parser a request continues with once its body is to be streamed to a file.
using FileRequestParser = bhttp::request_parser<FileSinkBody, FieldAllocator>;

// Logs the exception being handled, which the callback `what` threw on `request` (the server answers
// 500). Call it only from a catch block.
void log_thrown(std::string_view what, const Request& request) {
  try {
    throw;
  } catch (const std::exception& e) {
    spdlog::error("http: {} failed on {} {}: {}", what, request.method, request.target, e.what());
  } catch (...) {
    spdlog::error("http: {} failed on {} {} with an unknown exception", what, request.method, request.target);
  }
}

SteadyClock::time_point deadline_after(std::chrono::milliseconds timeout) {
  const auto now = SteadyClock::now();
  if (timeout > SteadyClock::time_point::max() - now) return SteadyClock::time_point::max();
  return now + timeout;
}

bool status_allows_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

// A header a handler built from untrusted input must not split the response.
bool safe_header(const Header& header) {
  return !header.name.empty() && header.name.find_first_of(":\r\n") == std::string::npos &&
         header.value.find_first_of("\r\n") == std::string::npos;
}

// The response status for a request the parser rejected.
int status_for_parse_error(const error_code& ec) {
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  return 400;
}

// One client connection. Lives on its loop's thread only, owned by its two coroutines (the request
// loop and the deadline watchdog) through shared_ptr.
class SessionImpl final : public Session, public std::enable_shared_from_this<SessionImpl> {
 public:
  SessionImpl(Loop& loop, tcp::socket socket);
  ~SessionImpl();

  // The keep-alive request loop.
  static Task<void> run(std::shared_ptr<SessionImpl> self);
  // Answers 503 (over max_connections) and closes.
  static Task<void> reject(std::shared_ptr<SessionImpl> self);
  // Cancels the socket's pending operation when the current deadline passes.
  static Task<void> watch(std::shared_ptr<SessionImpl> self);

  void on_drain() override;
  void close() override;

 private:
  enum class Phase { idle, reading, handling, writing };
  // answered: answer_before_body gave early_response_, to send before closing.
  enum class ReadOutcome { request, answered, closed, failed };

  Task<void> serve();
  Task<ReadOutcome> read_request();
  Task<ReadOutcome> read_body_to_file();
  template <class Parser, class Done>
  bool feed(Parser& parser, const Done& done);
  template <class Parser, class Done>
  Task<std::optional<ReadOutcome>> parse_until(Parser& parser, const Done& done, size_t read_bytes,
                                               std::chrono::milliseconds idle_timeout);
  bool expects_continue() const;
  Task<bool> send_continue();
  std::optional<bool> wants_body_file();
  Task<std::optional<Response>> answer_before_body();
  ReadOutcome fail_storage(int error, const char* what);
  Task<Response> call_handler();
  Task<bool> write_response(Response& response, unsigned version, bool keep_alive, bool head, uint64_t& sent);
  Task<bool> send_file(const FileRange& file, uint64_t& sent);
  Task<void> answer_error_and_close(int status);
  Task<void> close_gracefully();
  Task<void> watch_deadline();
  void fill_head();
  bool host_is_valid() const;
  void record(std::string_view method, std::string_view target, int status, std::string_view route,
              uint64_t bytes);
  void set_deadline(std::chrono::milliseconds timeout);
  void clear_deadline();

  Loop& loop_;
  const ServerOptions& options_;
  tcp::socket socket_;
  asio::steady_timer watchdog_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  bool deadline_expired_ = false;
  bool closed_ = false;
  Phase phase_ = Phase::idle;
  boost::beast::flat_buffer buffer_;  // reused across the connection's requests
  alignas(std::max_align_t) std::array<std::byte, field_arena_bytes> field_arena_storage_;
  std::pmr::monotonic_buffer_resource field_arena_;  // declared before parser_, which uses it
  std::optional<RequestParser> parser_;
  std::optional<FileRequestParser> file_parser_;  // replaces parser_ for a body streamed to a file
  BodyFile body_file_;                            // that body's file, until the response is written
  Response early_response_;                       // from answer_before_body (ReadOutcome::answered)
  Request request_;        // reused across requests, so its strings keep their capacity
  unsigned version_ = 11;  // of the current request, from its header
  bool keep_alive_ = false;
  bool head_ = false;
  int failed_status_ = 0;
  SteadyClock::time_point request_start_;
  std::string remote_;
};

SessionImpl::SessionImpl(Loop& loop, tcp::socket socket)
    : loop_(loop),
      options_(loop.server.options),
      socket_(std::move(socket)),
      watchdog_(*loop.io),
      field_arena_(field_arena_storage_.data(), field_arena_storage_.size()) {
  error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);  // sendfile(2) on the native handle must not block the loop
  const tcp::endpoint peer = socket_.remote_endpoint(ec);
  if (!ec) remote_ = peer.address().to_string();
  request_.remote_address = remote_;
  request_start_ = SteadyClock::now();
}

SessionImpl::~SessionImpl() {
  hook.unlink();
  loop_.server.connections.fetch_sub(1, std::memory_order_relaxed);
  loop_.session_ended();
}

Task<void> SessionImpl::run(std::shared_ptr<SessionImpl> self) {
  co_await self->serve();
  self->close();
}

Task<void> SessionImpl::reject(std::shared_ptr<SessionImpl> self) {
  co_await self->answer_error_and_close(503);
}

Task<void> SessionImpl::watch(std::shared_ptr<SessionImpl> self) {
  co_await self->watch_deadline();
}

Task<void> SessionImpl::watch_deadline() {
  error_code ec;
  while (!closed_) {
    if (deadline_ <= SteadyClock::now()) {
      deadline_expired_ = true;
      deadline_ = SteadyClock::time_point::max();
      socket_.cancel(ec);
    }
    watchdog_.expires_at(deadline_);
    co_await watchdog_.async_wait(redirect(ec));
  }
}

// Deadlines are set per phase of a request, so this is hot: it only stores the time, and wakes the
// watchdog only when the new deadline is earlier than the one it sleeps towards.
void SessionImpl::set_deadline(std::chrono::milliseconds timeout) {
  deadline_ = deadline_after(timeout);
  deadline_expired_ = false;
  if (deadline_ < watchdog_.expiry()) watchdog_.cancel();
}

void SessionImpl::clear_deadline() {
  deadline_ = SteadyClock::time_point::max();
  deadline_expired_ = false;
}

void SessionImpl::close() {
  closed_ = true;
  error_code ec;
  socket_.close(ec);
  watchdog_.cancel();
}

void SessionImpl::on_drain() {
  if (phase_ != Phase::idle) return;
  error_code ec;
  socket_.cancel(ec);
}

Task<void> SessionImpl::serve() {
  for (;;) {
    const ReadOutcome outcome = co_await read_request();
    if (outcome != ReadOutcome::request) body_file_.remove();  // a body cut short never reaches the handler
    if (outcome == ReadOutcome::closed) co_return;
    if (outcome == ReadOutcome::failed) {
      co_await answer_error_and_close(failed_status_);
      co_return;
    }
    if (outcome == ReadOutcome::answered) {  // the body is left unread: close after the answer
      uint64_t sent = 0;
      const bool written =
          co_await write_response(early_response_, version_, /*keep_alive=*/false, head_, sent);
      record(request_.method, request_.target, early_response_.status, early_response_.route, sent);
      if (written) co_await close_gracefully();
      co_return;
    }
    const unsigned version = version_;
    const bool head = head_;
    bool keep_alive = keep_alive_;

    phase_ = Phase::handling;
    clear_deadline();
    Response response = co_await call_handler();

    if (loop_.draining) keep_alive = false;
    if (auto connection = response.header("Connection"); connection && iequals(*connection, "close")) {
      keep_alive = false;
    }
    uint64_t sent = 0;
    const bool written = co_await write_response(response, version, keep_alive, head, sent);
    body_file_.remove();  // unless the handler renamed it away
    record(request_.method, request_.target, response.status, response.route, sent);
    if (!written) co_return;
    if (!keep_alive) {
      co_await close_gracefully();
      co_return;
    }
  }
}

Task<SessionImpl::ReadOutcome> SessionImpl::read_request() {
  parser_.reset();
  file_parser_.reset();
  field_arena_.release();
  parser_.emplace(std::piecewise_construct, std::make_tuple(),
                  std::make_tuple(FieldAllocator(&field_arena_)));
  parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(options_.max_header_bytes, UINT32_MAX)));
  // With body_to_file a body's limit depends on where it goes, which is known after the header: the
  // header may declare up to the larger limit, and the in-memory one is applied once chosen.
  const bool may_stream = static_cast<bool>(options_.body_to_file);
  parser_->body_limit(may_stream ? std::max<uint64_t>(options_.max_body_bytes, options_.max_file_body_bytes)
                                 : static_cast<uint64_t>(options_.max_body_bytes));
  parser_->eager(false);  // stop after the header: the body's destination is chosen there
  error_code ec;
  if (buffer_.size() == 0) {
    phase_ = Phase::idle;
    if (loop_.draining) co_return ReadOutcome::closed;
    set_deadline(options_.idle_timeout);
    const size_t n = co_await socket_.async_read_some(buffer_.prepare(read_chunk_bytes), redirect(ec));
    if (ec) co_return ReadOutcome::closed;  // EOF, reset, idle timeout or drain: close without a word
    buffer_.commit(n);
  }
  // Requests already buffered (pipelining) are parsed without another read.
  request_start_ = SteadyClock::now();
  phase_ = Phase::reading;
  set_deadline(options_.header_timeout);
  const auto header_done = [this] { return parser_->is_header_done(); };
  if (!feed(*parser_, header_done)) co_return ReadOutcome::failed;
  if (!header_done()) {  // the header came in several reads
    if (auto outcome = co_await parse_until(*parser_, header_done, read_chunk_bytes, {})) co_return *outcome;
  }
  fill_head();
  if (!host_is_valid()) {
    failed_status_ = 400;
    co_return ReadOutcome::failed;
  }
  if (!parser_->is_done()) {
    if (auto early = co_await answer_before_body()) {
      early_response_ = std::move(*early);
      co_return ReadOutcome::answered;
    }
    const std::optional<bool> to_file = wants_body_file();
    if (!to_file) {
      failed_status_ = 500;
      co_return ReadOutcome::failed;
    }
    if (*to_file) co_return co_await read_body_to_file();
    if (may_stream) {
      const auto declared = parser_->content_length();
      if (declared && *declared > options_.max_body_bytes) {
        failed_status_ = 413;
        co_return ReadOutcome::failed;
      }
      parser_->body_limit(static_cast<uint64_t>(options_.max_body_bytes));
    }
    parser_->eager(true);
    set_deadline(options_.body_timeout);
    if (expects_continue() && !co_await send_continue()) co_return ReadOutcome::closed;
    const auto body_done = [this] { return parser_->is_done(); };
    if (!feed(*parser_, body_done)) co_return ReadOutcome::failed;
    if (!body_done()) {
      if (auto outcome = co_await parse_until(*parser_, body_done, read_chunk_bytes, {})) co_return *outcome;
    }
  }
  request_.body = std::move(parser_->get().body());
  request_.body_bytes = request_.body.size();
  co_return ReadOutcome::request;
}

// Puts the buffered bytes into `parser` until `done()` or it needs more. false when the request is
// malformed or over a limit (failed_status_ set), or the body could not be stored.
template <class Parser, class Done>
bool SessionImpl::feed(Parser& parser, const Done& done) {
  error_code ec;
  while (buffer_.size() > 0 && !done()) {
    const size_t used = parser.put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) return true;
    if (ec) {
      failed_status_ = status_for_parse_error(ec);
      return false;
    }
    if (used == 0) break;
  }
  return true;
}

// Reads and feeds until `done()`: nullopt then, else the outcome to return (closed when the
// client went away, failed with 408 when the deadline passed, failed when feed() failed). A
// non-zero `idle_timeout` restarts the deadline after every read.
template <class Parser, class Done>
Task<std::optional<SessionImpl::ReadOutcome>> SessionImpl::parse_until(
    Parser& parser, const Done& done, size_t read_bytes, std::chrono::milliseconds idle_timeout) {
  error_code ec;
  for (;;) {
    const size_t n = co_await socket_.async_read_some(buffer_.prepare(read_bytes), redirect(ec));
    buffer_.commit(n);
    if (ec) {
      if (!deadline_expired_) co_return ReadOutcome::closed;  // the client went away mid-request
      failed_status_ = 408;
      co_return ReadOutcome::failed;
    }
    if (idle_timeout.count() > 0) set_deadline(idle_timeout);
    if (!feed(parser, done)) co_return ReadOutcome::failed;
    if (done()) co_return std::nullopt;
  }
}

// The rest of a request whose body goes to a file (the header is parsed, the body not started):
// checks the declared length, creates the file, then parses what arrives straight into it. The
// deadline is an idle timeout, restarted by every read. On any outcome but `request` the caller
// removes the file.
Task<SessionImpl::ReadOutcome> SessionImpl::read_body_to_file() {
  const auto declared = parser_->content_length();
  if (declared && *declared > options_.max_file_body_bytes) {
    failed_status_ = 413;
    co_return ReadOutcome::failed;
  }
  if (const int error = body_file_.create(options_.upload_temp_dir); error != 0) {
    co_return fail_storage(error, "create a file for the body in");
  }
  if (declared) {
    if (const int error = check_free_space(body_file_.fd(), *declared); error != 0) {
      co_return fail_storage(error, "store the body in");
    }
  }
  file_parser_.emplace(std::move(*parser_));
  parser_.reset();
  FileSinkBody::value_type& body = file_parser_->get().body();
  body.fd = body_file_.fd();
  file_parser_->body_limit(options_.max_file_body_bytes);
  file_parser_->eager(true);
  set_deadline(options_.body_timeout);
  if (expects_continue() && !co_await send_continue()) co_return ReadOutcome::closed;
  const auto done = [this] { return file_parser_->is_done(); };
  std::optional<ReadOutcome> outcome;
  if (!feed(*file_parser_, done)) outcome = ReadOutcome::failed;
  if (!outcome && !done()) {
    outcome = co_await parse_until(*file_parser_, done, file_body_read_chunk_bytes, options_.body_timeout);
  }
  if (outcome && body.write_errno != 0) co_return fail_storage(body.write_errno, "write the body to");
  if (outcome) co_return *outcome;
  buffer_.shrink_to_fit();  // back to what a header needs: the connection may stay open for long
  request_.body_file = body_file_.path();
  request_.body_bytes = body.size;
  co_return ReadOutcome::request;
}

SessionImpl::ReadOutcome SessionImpl::fail_storage(int error, const char* what) {
  failed_status_ = status_for_storage_error(error);
  spdlog::warn("http: cannot {} {} for {} {} from {}: {}", what,
               body_file_.fd() >= 0 ? body_file_.path() : options_.upload_temp_dir, request_.method,
               request_.target, remote_, std::strerror(error));
  return ReadOutcome::failed;
}

// True when the client waits for "100 Continue" before it sends the body (HTTP/1.1 only).
bool SessionImpl::expects_continue() const {
  if (version_ != 11) return false;
  const auto expect = request_.header("Expect");
  return expect && iequals(*expect, "100-continue");
}

// false when the connection failed.
Task<bool> SessionImpl::send_continue() {
  error_code ec;
  co_await asio::async_write(socket_, asio::buffer(continue_response), redirect(ec));
  co_return !ec;
}

// ServerOptions::body_to_file's answer for the current request; nullopt when it threw (500).
std::optional<bool> SessionImpl::wants_body_file() {
  if (!options_.body_to_file) return false;
  try {
    return options_.body_to_file(request_);
  } catch (...) {
    log_thrown("body_to_file", request_);
  }
  return std::nullopt;
}

// ServerOptions::answer_before_body's answer for the current request: nullopt to read the body
// as usual; a Response to send instead (500 when it threw). The header's deadline is lifted while
// it runs: its own I/O has its own limits.
Task<std::optional<Response>> SessionImpl::answer_before_body() {
  if (!options_.answer_before_body) co_return std::nullopt;
  clear_deadline();
  try {
    co_return co_await options_.answer_before_body(request_, loop_.index);
  } catch (...) {
    log_thrown("answer_before_body", request_);
  }
  co_return Response::text(500, "Internal Server Error\n");
}

// RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host, an HTTP/1.0 one at most; else 400.
bool SessionImpl::host_is_valid() const {
  size_t hosts = 0;
  for (const Header& header : request_.headers) hosts += iequals(header.name, "Host") ? 1 : 0;
  return hosts == 1 || (hosts == 0 && version_ < 11);
}

// The request's method, target and headers, as soon as its header is parsed; the body comes later.
void SessionImpl::fill_head() {
  const auto& message = parser_->get();
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  head_ = message.method() == bhttp::verb::head;
  request_.method.assign(message.method_string());
  request_.target.assign(message.target());
  size_t count = 0;
  for (const auto& field : message) {
    if (count == request_.headers.size()) request_.headers.emplace_back();
    Header& header = request_.headers[count++];
    header.name.assign(field.name_string());
    header.value.assign(field.value());
  }
  request_.headers.resize(count);
  request_.body.clear();
  request_.body_file.clear();
  request_.body_bytes = 0;
}

Task<Response> SessionImpl::call_handler() {
  try {
    co_return co_await loop_.handler(request_);
  } catch (...) {
    log_thrown("handler", request_);
  }
  co_return Response::text(500, "Internal Server Error\n");
}

Task<bool> SessionImpl::write_response(Response& response, unsigned version, bool keep_alive, bool head,
                                       uint64_t& sent) {
  phase_ = Phase::writing;
  set_deadline(options_.write_timeout);
  if (response.status < 100 || response.status > 999) {
    spdlog::error("http: handler answered {} {} with status {}", request_.method, request_.target,
                  response.status);
    response = Response::text(500, "Internal Server Error\n");
  }
  if (response.file && response.file->fd < 0) {
    spdlog::error("http: handler answered {} {} with a file that is not open", request_.method,
                  request_.target);
    response = Response::text(500, "Internal Server Error\n");
  }
  ResponseMessage message(std::piecewise_construct, std::make_tuple(),
                          std::make_tuple(FieldAllocator(&field_arena_)));
  message.version(version);
  message.result(static_cast<unsigned>(response.status));
  if (bhttp::int_to_status(static_cast<unsigned>(response.status)) == bhttp::status::unknown) {
    message.reason(reason(response.status));
  }
  bool has_date = false;
  bool has_server = false;
  for (const Header& header : response.headers) {
    if (iequals(header.name, "Content-Length") || iequals(header.name, "Connection")) continue;
    if (!safe_header(header)) {
      spdlog::warn("http: dropped a response header with CR, LF or a bad name on {}", request_.target);
      continue;
    }
    has_date = has_date || iequals(header.name, "Date");
    has_server = has_server || iequals(header.name, "Server");
    message.insert(header.name, header.value);
  }
  loop_.time.refresh();
  if (!has_date) message.set(bhttp::field::date, loop_.time.http_date());
  if (!has_server) message.set(bhttp::field::server, "reel");
  message.set(bhttp::field::connection, keep_alive ? "keep-alive" : "close");
  const bool body_allowed = status_allows_body(response.status);
  const uint64_t length = response.file ? response.file->length : response.body.size();
  if (body_allowed) message.content_length(length);
  const bool send_body = body_allowed && !head && length > 0;
  if (send_body && !response.file) message.body() = std::move(response.body);

  error_code ec;
  bhttp::response_serializer<bhttp::string_body, bhttp::basic_fields<FieldAllocator>> serializer(message);
  if (!response.file || !send_body) {
    co_await bhttp::async_write(socket_, serializer, redirect(ec));
    if (ec) co_return false;
    sent = send_body ? length : 0;
    co_return true;
  }
  co_await bhttp::async_write_header(socket_, serializer, redirect(ec));
  if (ec) co_return false;
  co_return co_await send_file(*response.file, sent);
}

// The fast path for media: the kernel copies file pages to the socket; the loop only waits for
// writability when the socket buffer is full.
Task<bool> SessionImpl::send_file(const FileRange& file, uint64_t& sent) {
  off_t offset = static_cast<off_t>(file.offset);
  uint64_t remaining = file.length;
  error_code ec;
  while (remaining > 0) {
    // Re-checked after every suspension: once closed, the descriptor number may belong to another.
    if (closed_ || !socket_.is_open()) co_return false;
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(remaining, sendfile_chunk_bytes));
    const ssize_t n = ::sendfile(socket_.native_handle(), file.fd, &offset, chunk);
    if (n > 0) {
      remaining -= static_cast<uint64_t>(n);
      sent += static_cast<uint64_t>(n);
      set_deadline(options_.write_timeout);
      if (static_cast<size_t>(n) == chunk && remaining > 0) {
        co_await asio::post(socket_.get_executor(), asio::use_awaitable);  // let other connections run
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      co_await socket_.async_wait(tcp::socket::wait_write, redirect(ec));
      if (ec) co_return false;
      continue;
    }
    if (n == 0) {
      spdlog::warn("http: file ended {} bytes before the range sent to {}", remaining, remote_);
    } else {
      const int error = errno;
      if (error != EPIPE && error != ECONNRESET) {
        spdlog::warn("http: sendfile to {} failed: {}", remote_, std::strerror(error));
      }
    }
    co_return false;
  }
  co_return true;
}

// For requests that cannot be served (400/408/413/431) and connections over the limit (503).
Task<void> SessionImpl::answer_error_and_close(int status) {
  Response response = Response::text(status, fmt::format("{}\n", reason(status)));
  if (status == 503) response.set("Retry-After", "1");
  uint64_t sent = 0;
  const bool written = co_await write_response(response, 11, /*keep_alive=*/false, /*head=*/false, sent);
  record("-", "-", status, response.route, sent);
  if (written) co_await close_gracefully();
  close();
}

// Shuts down the sending side, then reads and drops what the client still sends for a moment, so
// the kernel does not answer unread bytes with a reset that would destroy our last response.
Task<void> SessionImpl::close_gracefully() {
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    set_deadline(linger_timeout);
    size_t discarded = 0;
    while (discarded < linger_max_bytes) {
      buffer_.clear();
      const size_t n = co_await socket_.async_read_some(buffer_.prepare(read_chunk_bytes), redirect(ec));
      if (ec) break;
      discarded += n;
    }
  }
  close();
}

void SessionImpl::record(std::string_view method, std::string_view target, int status, std::string_view route,
                         uint64_t bytes) {
  const auto latency = SteadyClock::now() - request_start_;
  loop_.server.metrics.record(route, status, latency);
  if (loop_.access_log) {
    loop_.time.refresh();
    loop_.access_log->append(loop_.time.iso(), remote_, method, target, status, bytes, latency);
  }
}

}  // namespace

void Session::start(Loop& loop, tcp::socket socket, bool reject) {
  auto session = std::make_shared<SessionImpl>(loop, std::move(socket));
  loop.sessions.push_back(*session);
  asio::co_spawn(*loop.io, SessionImpl::watch(session), log_escape("deadline watchdog"));
  if (reject) {
    asio::co_spawn(*loop.io, SessionImpl::reject(std::move(session)), log_escape("connection reject"));
  } else {
    asio::co_spawn(*loop.io, SessionImpl::run(std::move(session)), log_escape("session"));
  }
}

}  // namespace reel::http::detail
