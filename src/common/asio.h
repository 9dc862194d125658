// The one way to include Boost.Asio in Reel: Boost 1.74's awaitable.hpp uses std::exchange without
// including <utility>, which g++ 12 rejects, so <utility> must come first.
#pragma once

#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace reel {
namespace asio = boost::asio;
template <class T>
using Task = boost::asio::awaitable<T>;
}  // namespace reel
