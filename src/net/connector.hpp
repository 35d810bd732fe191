// connect_tcp: resolves host:port (numeric or a name, through uv_getaddrinfo) and
// connects a new TcpStream, with a connect timeout on the loop's TimerWheel,
// optionally from an address of a SourcePool.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <uv.h>

namespace sb::net {

class TcpStream;
class StreamHandler;
class SourcePool;

class ConnectAttempt;

// The callback receives either a connected stream (status 0, stream != nullptr,
// its handler already set to `handler`, not yet reading) or a failure (status a
// negative UV_E* code, UV_ETIMEDOUT for the timeout, stream == nullptr).
using ConnectFn = std::function<void(int status, TcpStream* stream)>;

// Starts connecting. The returned handle can cancel the attempt (the callback is
// then never called); it is invalid after the callback ran or after cancel().
// The callback always runs from the loop, never from inside connect_tcp(). A name
// may resolve to several addresses: they are tried in order, and a failure reports
// the last address's error. The timeout covers resolution and every try; it runs on
// the loop's TimerWheel, so the LoopContext must be ticking, and it fires within one
// tick after timeout_ms (0: at the next tick).
//
// With a non-empty `sources` (source_pool.hpp; it must outlive the attempt) each
// socket is bound first to the pool's next address of the destination's family,
// port 0, with IP_BIND_ADDRESS_NO_PORT. A source that is not usable (EADDRNOTAVAIL
// from bind, or from connect when its ports towards this destination are used up)
// is skipped for the next one, up to every address of the pool once; then the
// destination counts as failed. With no source of that family the kernel picks.
ConnectAttempt* connect_tcp(uv_loop_t* loop, const std::string& host, std::uint16_t port,
                            std::uint64_t timeout_ms, StreamHandler* handler, ConnectFn done,
                            SourcePool* sources = nullptr);
void cancel_connect(ConnectAttempt* attempt);

}  // namespace sb::net
