// server/connections.hpp (private) — the protocol adapters: one object per accepted connection.
//
// Each runs on the event-loop thread, owns its socket and codec state, and keeps itself alive
// through shared_ptr while I/O is pending. They translate wire events into relay::decider calls and
// the decider's outcome into wire answers; they decide nothing themselves.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>

#include "service.hpp"

namespace pw::server {

using stream_socket = boost::asio::generic::stream_protocol::socket;

void start_milter_connection(service& svc, stream_socket socket);
void start_policy_connection(service& svc, stream_socket socket);


}  // namespace pw::server
