// Answering HAProxy's agent-check; see agent_server.hpp.
#include "app/metrics/agent_server.hpp"

#include "net/tcp_stream.hpp"

namespace sb::app {
namespace {

// One handler for every agent connection: it holds no state of its own, since
// a connection's whole life is one write and a close.
class OneLine final : public net::StreamHandler {
 public:
  void on_read(net::TcpStream&, std::string_view) override {}  // nothing is expected
  void on_read_end(net::TcpStream& stream, int) override { stream.close(); }
  // The line has left: close. Closing earlier would cancel a write the kernel
  // did not take at once.
  void on_drained(net::TcpStream& stream) override { stream.close(); }
  void on_write_error(net::TcpStream& stream, int) override { stream.close(); }
  void on_closed(net::TcpStream&) override {}
};
OneLine one_line;

}  // namespace

AgentFigures agent_figures(const MetricsBoard& board, const Config& config) {
  const MetricsTotals totals = board.totals();
  AgentFigures figures;
  figures.sessions = totals.sessions;
  figures.max_sessions = config.max_sessions;
  figures.open_fds = totals.open_fds;
  figures.max_fds = totals.max_fds;
  figures.drain = config.drain;
  return figures;
}

AgentServer::AgentServer(uv_loop_t* loop, FiguresFn figures)
    : figures_(std::move(figures)),
      listener_(loop, [this](net::TcpStream& stream) { answer(stream); }) {}

int AgentServer::listen(const std::string& address, std::string& error) {
  return listener_.listen(address, 64, error);
}

void AgentServer::answer(net::TcpStream& stream) {
  stream.set_handler(&one_line);
  stream.write(agent_reply(figures_ ? figures_() : AgentFigures{}));
  // A dozen bytes on a fresh socket: the kernel takes them at once, nothing is
  // queued and no on_drained will come, so close now (the bytes are sent, then
  // the FIN). Otherwise on_drained closes.
  if (stream.queued_bytes() == 0) stream.close();
}

}  // namespace sb::app
