// Session: one client connection of the HTTP server, as its Loop sees it. The loop starts a session
// for each accepted socket and keeps the live ones in its SessionList so a drain can reach them;
// the session does the rest (read with deadlines, 100-continue, answer_before_body, bodies streamed
// to a file, the handler, the response and sendfile, keep-alive, graceful close) in session.cc, the
// one translation unit that compiles Beast. This header stays free of Beast so the loop and the
// server compile without it.
// Thread-safety: a session lives on its loop's thread only.
#pragma once

#include <boost/intrusive/list.hpp>

#include "common/asio.h"

namespace reel::http::detail {

class Loop;

using SessionHook =
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

class Session {
 public:
  // Serves the accepted connection `socket` on `loop` until it closes (a keep-alive request loop),
  // or, with `reject` (over max_connections), answers 503 and closes. The session owns itself
  // (its coroutines hold it), is listed in loop.sessions while it lives, and, when it ends,
  // decrements the server's connection count and calls loop.session_ended().
  static void start(Loop& loop, asio::ip::tcp::socket socket, bool reject);

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Drain started: an idle connection closes at once; one with a request in progress finishes it.
  virtual void on_drain() = 0;
  // Closes the socket whatever the connection is doing (end of the connection, drain timeout).
  virtual void close() = 0;

  SessionHook hook;

 protected:
  Session() = default;
  ~Session() = default;
};

using SessionList =
    boost::intrusive::list<Session, boost::intrusive::member_hook<Session, SessionHook, &Session::hook>,
                           boost::intrusive::constant_time_size<false>>;

}  // namespace reel::http::detail
