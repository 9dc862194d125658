// The session loop of the HTTP server: accept, read (with deadlines), hand the request to the pure
// handler, write (with sendfile for file bodies), drain. Request handling itself lives in the
// Handler; this file only moves bytes, so it is the one place Beast is compiled.
#include "http/server.h"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/intrusive/list.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <iterator>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "http/date.h"
#include "http/text.h"

namespace reel::http {

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
// accept() failing (EMFILE, ENFILE, ENOBUFS) is retried after this pause instead of spinning.
constexpr std::chrono::milliseconds accept_error_backoff{50};
// Each loop hands its access-log lines to spdlog in chunks of this size, or at least once a second.
constexpr size_t access_log_flush_bytes = 64 * 1024;
constexpr std::chrono::seconds access_log_flush_interval{1};

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

// Beast's header fields allocate one element per field; these live in the connection's arena, which
// is reset per request, so headers cost no malloc in steady state.
using FieldAllocator = std::pmr::polymorphic_allocator<char>;
using RequestParser = bhttp::request_parser<bhttp::string_body, FieldAllocator>;
using ResponseMessage = bhttp::response<bhttp::string_body, bhttp::basic_fields<FieldAllocator>>;

// A Beast body that writes what the parser decodes (chunked framing removed) straight to an open
// file with write(2), so a body of any size costs only the read buffer. The descriptor is borrowed
// from the session's BodyFile. A failed write stops the parse with the errno as its error.
struct FileSinkBody {
  struct value_type {
    int fd = -1;
    uint64_t size = 0;    // bytes written
    int write_errno = 0;  // errno of the write that failed, 0 if none did
  };

  class reader {
   public:
    template <bool is_request, class Fields>
    reader(bhttp::header<is_request, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<uint64_t>&, error_code& ec) { ec = {}; }

    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      size_t written = 0;
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
        const asio::const_buffer buffer = *it;
        const char* data = static_cast<const char*>(buffer.data());
        size_t left = buffer.size();
        while (left > 0) {
          const ssize_t n = ::write(body_.fd, data, left);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) {
            body_.write_errno = n < 0 ? errno : EIO;
            ec.assign(body_.write_errno, boost::system::system_category());
            return written;
          }
          data += n;
          left -= static_cast<size_t>(n);
          written += static_cast<size_t>(n);
          body_.size += static_cast<uint64_t>(n);
        }
      }
      ec = {};
      return written;
    }

    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

using FileRequestParser = bhttp::request_parser<FileSinkBody, FieldAllocator>;

// The temporary file of one streamed body. remove() (and the destructor) deletes it unless the
// handler renamed it away: the path is unlinked only while it still names the file this object
// created, so a rename, or a new file that reuses the name, is left alone.
class BodyFile {
 public:
  BodyFile() = default;
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;
  ~BodyFile() { remove(); }

  // Creates "<dir>/reel-body-XXXXXX" (0600). 0, or the errno of the failure.
  int create(const std::string& dir) {
    remove();
    path_.assign(dir);
    path_.append("/reel-body-XXXXXX");
    fd_ = ::mkostemp(path_.data(), O_CLOEXEC);
    if (fd_ < 0) return errno;
    struct stat status {};
    if (::fstat(fd_, &status) != 0) {
      const int error = errno;
      ::unlink(path_.c_str());
      ::close(fd_);
      fd_ = -1;
      return error;
    }
    device_ = status.st_dev;
    inode_ = status.st_ino;
    return 0;
  }

  void remove() {
    if (fd_ < 0) return;
    struct stat status {};
    if (::stat(path_.c_str(), &status) == 0 && status.st_dev == device_ && status.st_ino == inode_) {
      ::unlink(path_.c_str());
    }
    ::close(fd_);
    fd_ = -1;
  }

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

bool no_space(int error) {
  return error == ENOSPC || error == EDQUOT;
}

// 0 when `length` more bytes fit on the file system of `fd` as far as it can tell now (concurrent
// writers may still fill it: writes report that), else ENOSPC. Reserves nothing, so a client that
// only declares a length cannot take the space from others.
int check_free_space(int fd, uint64_t length) {
  struct statvfs usage {};
  if (::fstatvfs(fd, &usage) != 0) return 0;  // unknown: let the writes tell
  const uint64_t available = static_cast<uint64_t>(usage.f_bavail) * usage.f_frsize;
  return length > available ? ENOSPC : 0;
}

std::string temp_dir_or_default(std::string dir) {
  if (!dir.empty()) return dir;
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir && *tmpdir ? std::string(tmpdir) : std::string("/tmp");
}

auto redirect(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

// Logs an exception that escaped a detached coroutine (none is expected; this is the backstop).
auto log_escape(const char* what) {
  return [what](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("http: {} failed: {}", what, e.what());
    } catch (...) {
      spdlog::error("http: {} failed with an unknown exception", what);
    }
  };
}

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

// The response status for a body that could not be stored: the disk (507, 413, 500) or the parse.
int status_for_storage_error(int error) {
  if (no_space(error)) return 507;
  if (error == EFBIG) return 413;  // larger than the file system allows
  return 500;
}

// Wall-clock strings of the current second, formatted once per second per loop: the Date header
// and the access log's timestamp.
class TimeCache {
 public:
  void refresh() {
    const std::time_t now = std::time(nullptr);
    if (now == second_) return;
    second_ = now;
    format_http_date(now, http_date_);
    std::tm utc{};
    gmtime_r(&now, &utc);
    iso_.clear();
    fmt::format_to(std::back_inserter(iso_), "{:%Y-%m-%dT%H:%M:%SZ}", utc);
  }
  std::string_view http_date() const { return {http_date_, http_date_size}; }
  std::string_view iso() const { return iso_; }

 private:
  std::time_t second_ = -1;
  char http_date_[http_date_size] = {};
  std::string iso_;
};

class Loop;

// State shared by every loop of one server. Fields are written before the loops run (bind) except
// the atomics and `failure`, which has its own mutex.
struct ServerState {
  ServerState(ServerOptions options_in, HandlerFactory factory_in)
      : options(std::move(options_in)), factory(std::move(factory_in)) {
    if (options.threads < 1) options.threads = 1;
    options.upload_temp_dir = temp_dir_or_default(std::move(options.upload_temp_dir));
    metrics.add_source([this](std::string& out) {
      fmt::format_to(std::back_inserter(out),
                     "# HELP reel_http_connections Open client connections.\n"
                     "# TYPE reel_http_connections gauge\n"
                     "reel_http_connections {}\n",
                     connections.load(std::memory_order_relaxed));
    });
  }
  ~ServerState();

  void stop();
  // Records the first failure of a loop (run() returns it) and starts the drain.
  void fail(Error error) {
    {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::move(error);
    }
    stop();
  }

  ServerOptions options;
  HandlerFactory factory;
  Metrics metrics;
  std::shared_ptr<spdlog::logger> access_log;  // null when not configured
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  bool bound = false;
  bool ran = false;
  uint16_t port = 0;
  std::vector<std::unique_ptr<Loop>> loops;
  std::mutex failure_mutex;
  std::optional<Error> failure;
};

using SessionHook =
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

// One client connection. Lives on its loop's thread only, owned by its two coroutines (the request
// loop and the deadline watchdog) through shared_ptr.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Loop& loop, tcp::socket socket);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The keep-alive request loop.
  static Task<void> run(std::shared_ptr<Session> self);
  // Answers 503 (over max_connections) and closes.
  static Task<void> reject(std::shared_ptr<Session> self);
  // Cancels the socket's pending operation when the current deadline passes.
  static Task<void> watch(std::shared_ptr<Session> self);

  // Drain started: an idle connection closes at once; one with a request in progress finishes it.
  void on_drain();
  // Closes the socket whatever the connection is doing (end of the connection, drain timeout).
  void close();

  SessionHook hook;

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

using SessionList =
    boost::intrusive::list<Session, boost::intrusive::member_hook<Session, SessionHook, &Session::hook>,
                           boost::intrusive::constant_time_size<false>>;

// One event loop: an io_context run by one thread, its acceptor, its handler and its connections.
class Loop {
 public:
  Loop(ServerState& server_in, int index_in) : server(server_in), index(index_in) { io.emplace(1); }
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // On the loop thread: makes the handler, then accepts.
  void start();
  void begin_drain();
  void session_ended();
  void append_access_log(std::string_view remote, std::string_view method, std::string_view target,
                         int status, uint64_t bytes, SteadyClock::duration latency);
  void flush_access_log();

  ServerState& server;
  const int index;
  std::optional<asio::io_context> io;
  std::optional<tcp::acceptor> acceptor;
  Handler handler;
  SessionList sessions;
  TimeCache time;
  bool draining = false;

 private:
  Task<void> accept_loop();
  Task<void> flush_access_log_periodically();
  void finish();

  std::optional<asio::signal_set> signals_;
  std::optional<asio::steady_timer> drain_timer_;
  std::string access_log_buffer_;
  bool finished_ = false;
};

// --- Session ---------------------------------------------------------------------------------

Session::Session(Loop& loop, tcp::socket socket)
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

Session::~Session() {
  hook.unlink();
  loop_.server.connections.fetch_sub(1, std::memory_order_relaxed);
  loop_.session_ended();
}

Task<void> Session::run(std::shared_ptr<Session> self) {
  co_await self->serve();
  self->close();
}

Task<void> Session::reject(std::shared_ptr<Session> self) {
  co_await self->answer_error_and_close(503);
}

Task<void> Session::watch(std::shared_ptr<Session> self) {
  co_await self->watch_deadline();
}

Task<void> Session::watch_deadline() {
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
void Session::set_deadline(std::chrono::milliseconds timeout) {
  deadline_ = deadline_after(timeout);
  deadline_expired_ = false;
  if (deadline_ < watchdog_.expiry()) watchdog_.cancel();
}

void Session::clear_deadline() {
  deadline_ = SteadyClock::time_point::max();
  deadline_expired_ = false;
}

void Session::close() {
  closed_ = true;
  error_code ec;
  socket_.close(ec);
  watchdog_.cancel();
}

void Session::on_drain() {
  if (phase_ != Phase::idle) return;
  error_code ec;
  socket_.cancel(ec);
}

Task<void> Session::serve() {
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
      const bool written = co_await write_response(early_response_, version_, /*keep_alive=*/false, head_, sent);
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

Task<Session::ReadOutcome> Session::read_request() {
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
bool Session::feed(Parser& parser, const Done& done) {
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
Task<std::optional<Session::ReadOutcome>> Session::parse_until(Parser& parser, const Done& done,
                                                               size_t read_bytes,
                                                               std::chrono::milliseconds idle_timeout) {
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
Task<Session::ReadOutcome> Session::read_body_to_file() {
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

Session::ReadOutcome Session::fail_storage(int error, const char* what) {
  failed_status_ = status_for_storage_error(error);
  spdlog::warn("http: cannot {} {} for {} {} from {}: {}", what,
               body_file_.fd() >= 0 ? body_file_.path() : options_.upload_temp_dir, request_.method,
               request_.target, remote_, std::strerror(error));
  return ReadOutcome::failed;
}

// True when the client waits for "100 Continue" before it sends the body (HTTP/1.1 only).
bool Session::expects_continue() const {
  if (version_ != 11) return false;
  const auto expect = request_.header("Expect");
  return expect && iequals(*expect, "100-continue");
}

// false when the connection failed.
Task<bool> Session::send_continue() {
  error_code ec;
  co_await asio::async_write(socket_, asio::buffer(continue_response), redirect(ec));
  co_return !ec;
}

// ServerOptions::body_to_file's answer for the current request; nullopt when it threw (500).
std::optional<bool> Session::wants_body_file() {
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
Task<std::optional<Response>> Session::answer_before_body() {
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
bool Session::host_is_valid() const {
  size_t hosts = 0;
  for (const Header& header : request_.headers) hosts += iequals(header.name, "Host") ? 1 : 0;
  return hosts == 1 || (hosts == 0 && version_ < 11);
}

// The request's method, target and headers, as soon as its header is parsed; the body comes later.
void Session::fill_head() {
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

Task<Response> Session::call_handler() {
  try {
    co_return co_await loop_.handler(request_);
  } catch (...) {
    log_thrown("handler", request_);
  }
  co_return Response::text(500, "Internal Server Error\n");
}

Task<bool> Session::write_response(Response& response, unsigned version, bool keep_alive, bool head,
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
Task<bool> Session::send_file(const FileRange& file, uint64_t& sent) {
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
Task<void> Session::answer_error_and_close(int status) {
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
Task<void> Session::close_gracefully() {
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

void Session::record(std::string_view method, std::string_view target, int status, std::string_view route,
                     uint64_t bytes) {
  const auto latency = SteadyClock::now() - request_start_;
  loop_.server.metrics.record(route, status, latency);
  if (loop_.server.access_log) loop_.append_access_log(remote_, method, target, status, bytes, latency);
}

// --- Loop ------------------------------------------------------------------------------------

Loop::~Loop() {
  // Close the loop's own I/O objects and the handler (which may own connections of its own) while
  // the io_context lives; destroying the io_context then destroys the coroutines still suspended,
  // whose sessions unlink themselves from `sessions`.
  finished_ = true;
  acceptor.reset();
  signals_.reset();
  drain_timer_.reset();
  handler = nullptr;
  io.reset();
}

void Loop::start() {
  try {
    handler = server.factory(*io, index);
  } catch (const std::exception& e) {
    server.fail(
        Error{fmt::format("http server: the handler factory of loop {} failed: {}", index, e.what())});
    return;
  }
  if (!handler) {
    server.fail(Error{fmt::format("http server: the handler factory of loop {} returned no handler", index)});
    return;
  }
  asio::co_spawn(*io, accept_loop(), log_escape("accept loop"));
  if (server.access_log) asio::co_spawn(*io, flush_access_log_periodically(), log_escape("access log"));
  if (index == 0 && server.options.handle_signals) {
    signals_.emplace(*io, SIGINT, SIGTERM);
    signals_->async_wait([this](const error_code& ec, int signal_number) {
      if (ec) return;
      spdlog::info("http: signal {} received, draining", signal_number);
      server.stop();
    });
  }
}

Task<void> Loop::accept_loop() {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor->async_accept(redirect(ec));
    if (draining || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer backoff(*io, accept_error_backoff);
      co_await backoff.async_wait(redirect(ec));
      continue;
    }
    const size_t open = server.connections.fetch_add(1, std::memory_order_relaxed);
    auto session = std::make_shared<Session>(*this, std::move(socket));
    sessions.push_back(*session);
    asio::co_spawn(*io, Session::watch(session), log_escape("deadline watchdog"));
    if (open >= server.options.max_connections) {
      asio::co_spawn(*io, Session::reject(std::move(session)), log_escape("connection reject"));
    } else {
      asio::co_spawn(*io, Session::run(std::move(session)), log_escape("session"));
    }
  }
}

void Loop::begin_drain() {
  if (draining) return;
  draining = true;
  error_code ec;
  if (acceptor) acceptor->close(ec);
  if (signals_) signals_->cancel(ec);
  for (Session& session : sessions) session.on_drain();
  if (sessions.empty()) {
    finish();
    return;
  }
  drain_timer_.emplace(*io, server.options.drain_timeout);
  drain_timer_->async_wait([this](const error_code& timer_error) {
    if (timer_error) return;
    if (!sessions.empty()) spdlog::warn("http: drain timed out; closing connections of loop {}", index);
    for (Session& session : sessions) session.close();
    // Sessions blocked on I/O unwind first (their completions are queued); a handler that never
    // returns is destroyed with the io_context.
    asio::post(*io, [this] { finish(); });
  });
}

void Loop::session_ended() {
  if (draining && sessions.empty()) finish();
}

void Loop::finish() {
  if (finished_) return;
  finished_ = true;
  if (drain_timer_) drain_timer_->cancel();
  io->stop();
}

void Loop::append_access_log(std::string_view remote, std::string_view method, std::string_view target,
                             int status, uint64_t bytes, SteadyClock::duration latency) {
  time.refresh();
  fmt::format_to(std::back_inserter(access_log_buffer_), "{} {} {} {} {} {} {}\n", time.iso(), remote, method,
                 target, status, bytes,
                 std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  if (access_log_buffer_.size() >= access_log_flush_bytes) flush_access_log();
}

void Loop::flush_access_log() {
  if (access_log_buffer_.empty()) return;
  server.access_log->info(std::string_view(access_log_buffer_));
  server.access_log->flush();
  access_log_buffer_.clear();
}

Task<void> Loop::flush_access_log_periodically() {
  asio::steady_timer timer(*io);
  for (;;) {
    timer.expires_after(access_log_flush_interval);
    error_code ec;
    co_await timer.async_wait(redirect(ec));
    if (ec) co_return;
    flush_access_log();
  }
}

// --- ServerState -----------------------------------------------------------------------------

ServerState::~ServerState() = default;

void ServerState::stop() {
  stopping.store(true);
  for (auto& loop : loops) {
    asio::post(*loop->io, [target = loop.get()] { target->begin_drain(); });
  }
}

Result<tcp::endpoint> resolve(const std::string& host, uint16_t port) {
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  asio::io_context io;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return Error{fmt::format("http server: cannot resolve {}: {}", host, ec ? ec.message() : "no address")};
  }
  return results.begin()->endpoint();
}

// A listening socket with SO_REUSEPORT, so every loop can own one on the same address.
Status listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) {
    const int enable = 1;
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &enable, sizeof enable) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{fmt::format("http server: cannot listen on {}:{}: {}", endpoint.address().to_string(),
                             endpoint.port(), ec.message())};
  }
  return {};
}

Result<std::shared_ptr<spdlog::logger>> open_access_log(const std::string& destination) {
  try {
    spdlog::sink_ptr sink;
    if (destination == "-") {
      sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(destination);
    }
    auto logger = std::make_shared<spdlog::logger>("reel.access", std::move(sink));
    // Lines arrive pre-formatted, newline included, in chunks.
    logger->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%v", spdlog::pattern_time_type::utc, ""));
    logger->set_level(spdlog::level::info);
    return logger;
  } catch (const std::exception& e) {
    return Error{fmt::format("http server: cannot open the access log {}: {}", destination, e.what())};
  }
}

}  // namespace

struct Server::Impl : ServerState {
  using ServerState::ServerState;
};

Server::Server(ServerOptions options, HandlerFactory factory)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(factory))) {}

Server::~Server() = default;

Status Server::bind() {
  Impl& state = *impl_;
  if (state.bound) return {};
  auto endpoint = resolve(state.options.host, state.options.port);
  if (!endpoint) return endpoint.error();
  std::vector<std::unique_ptr<Loop>> loops;
  for (int index = 0; index < state.options.threads; ++index) {
    auto loop = std::make_unique<Loop>(state, index);
    loop->acceptor.emplace(*loop->io);
    Status listening = listen(*loop->acceptor, *endpoint);
    if (!listening) return listening;
    // Port 0: the first acceptor picked a free port; the others share it.
    if (index == 0) endpoint->port(loop->acceptor->local_endpoint().port());
    loops.push_back(std::move(loop));
  }
  if (!state.options.access_log.empty()) {
    auto logger = open_access_log(state.options.access_log);
    if (!logger) return logger.error();
    state.access_log = std::move(*logger);
  }
  state.port = endpoint->port();
  state.loops = std::move(loops);
  state.bound = true;
  return {};
}

uint16_t Server::port() const {
  return impl_->port;
}

Status Server::run() {
  Impl& state = *impl_;
  if (state.ran) return Error{"http server: run() was already called"};
  if (Status bound = bind(); !bound) return bound;
  state.ran = true;
  if (state.stopping.load()) return {};
  for (auto& loop : state.loops) {
    asio::post(*loop->io, [target = loop.get()] { target->start(); });
  }
  auto run_loop = [&state](Loop& loop) {
    try {
      loop.io->run();
    } catch (const std::exception& e) {
      state.fail(Error{fmt::format("http server: loop {} failed: {}", loop.index, e.what())});
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < state.loops.size(); ++i) {
    threads.emplace_back([&run_loop, loop = state.loops[i].get()] { run_loop(*loop); });
  }
  run_loop(*state.loops[0]);
  for (std::thread& thread : threads) thread.join();
  if (state.access_log) {
    for (auto& loop : state.loops) loop->flush_access_log();
  }
  std::lock_guard lock(state.failure_mutex);
  if (state.failure) return *state.failure;
  return {};
}

void Server::stop() {
  impl_->stop();
}

Metrics& Server::metrics() {
  return impl_->metrics;
}

}  // namespace reel::http
