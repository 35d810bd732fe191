// AgentServer: the `agent_listen` listener, for HAProxy's agent-check. On each
// connection it writes one line, the node's free capacity as a weight
// (agent_reply.hpp), and closes: that is the whole agent protocol. HAProxy then
// balances new sessions by that weight, and a full or drained node (weight 0)
// gets no new sessions while its own sessions' requests, routed to it by name,
// go on (docs/nodes.md).
//
// Why a listener of its own rather than a path of metrics_listen: the agent
// protocol is not HTTP (HAProxy connects, reads a line, and sends nothing
// unless told to), and an HTTP check can say up or down but not a weight.
//
// It lives where the MetricsServer does (the supervisor, or the one worker) and
// reads the same MetricsBoard: sessions and descriptors as the workers sampled
// them (about once a second, which is finer than any agent-inter worth using),
// so answering costs the workers nothing. What is read from the configuration
// (max_sessions, drain) is asked for at each connection, so a reload counts at
// the next check. An upgrade in place does not hand this socket over: the new
// daemon opens its own beside the old one (SO_REUSEPORT), and a check that
// lands on either gets an answer.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

#include "app/config/config.hpp"
#include "app/metrics/agent_reply.hpp"
#include "app/metrics/metrics_board.hpp"
#include "net/listener.hpp"

namespace sb::app {

// The board serves the agent as well as /metrics: either key makes the workers
// keep it.
inline bool wants_metrics_board(const Config& config) {
  return config.metrics_listen.has_value() || config.agent_listen.has_value();
}

// The agent's figures now: the board's sums and the configuration's cap and drain.
AgentFigures agent_figures(const MetricsBoard& board, const Config& config);

class AgentServer {
 public:
  // What the line is made of, asked at every connection.
  using FiguresFn = std::function<AgentFigures()>;

  AgentServer(uv_loop_t* loop, FiguresFn figures);
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  // Returns 0 or a negative UV_E* error with `error` set.
  int listen(const std::string& address, std::string& error);
  int bound_port() const { return listener_.bound_port(); }
  // Stops listening (shutdown). A reply being written finishes on its own.
  void close() { listener_.close(); }

 private:
  void answer(net::TcpStream& stream);

  FiguresFn figures_;
  net::Listener listener_;
};

}  // namespace sb::app
