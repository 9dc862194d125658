// The one way to include Boost.Asio in Reel: Boost 1.74's awaitable.hpp uses std::exchange without
// including <utility>, which g++ 12 rejects, so <utility> must come first. Every part of Asio that
// Reel uses is included here, once, so no file can include one in the wrong order (the build
// refuses `#include <boost/asio/...>` anywhere else: cmake/ReelLayering.cmake).
#pragma once

// <utility> must stay first.
// clang-format off
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
// clang-format on

namespace reel {
namespace asio = boost::asio;
template <class T>
using Task = boost::asio::awaitable<T>;
}  // namespace reel
