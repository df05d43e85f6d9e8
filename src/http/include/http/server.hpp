// http/server.hpp — HTTP/1.1 connections over any stream socket, answered through a router.
//
// Purpose: the daemon accepts a connection (TCP or unix socket, as an Asio generic stream socket)
// and hands it here. Each request is read by Boost.Beast with limits, dispatched to the router on the
// worker executor (handlers may score a message, which must not run on the event loop), and the
// response written back on the connection's strand. Keep-alive is honoured.
// Guarantees: header block ≤ 16 KiB and body ≤ `limits.max_body_bytes` (413 beyond); a connection idle
// or stalled longer than `limits.idle_timeout` is closed; a malformed request gets 400 and the
// connection closes. Nothing here throws out to the event loop.
// Ownership: the session keeps itself alive through shared_ptr while I/O is pending; the router and
// the executors must outlive every session (the daemon drains sessions before destroying them).
// Thread-safety: a session's I/O runs on a strand of the loop's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <chrono>
#include <cstddef>
#include <functional>

#include "http/router.hpp"

namespace pw::http {

struct limits {
  std::size_t max_body_bytes = 16u << 20;  // a raw message for /api/v1/check
  std::chrono::milliseconds idle_timeout{30000};
};

// Called once per finished request with its path and status (for access counting; never the body).
using observer = std::function<void(const request&, const response&, std::chrono::microseconds)>;

void start_session(boost::asio::generic::stream_protocol::socket socket, const router& routes,
                   boost::asio::any_io_executor workers, limits l, observer on_response);

}  // namespace pw::http
