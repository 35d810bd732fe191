// bench_bare_responder: the floor for one HTTP request on Switchboard's stack. One
// libuv loop, one shared read buffer, llhttp parsing every request in full (request
// line, every header, the body), keep-alive, and every request answered with the
// same fixed response: a BOSH-like `<body/>` of a chosen size under the headers
// Switchboard sends (Date, Content-Type, Content-Length). No routing, no XML, no
// session: what is left of a request when all of that is taken away, so that
// bench/request_path.js can say how close Switchboard's request path comes to it
// (docs/benchmarks.md, "request_path.js").
//
// Run by hand:
//   build/bench/bench_bare_responder --listen 127.0.0.1:PORT [--body-bytes N]
// It prints "listening on 127.0.0.1:PORT" once it accepts, and runs until
// SIGTERM or SIGINT. --body-bytes (default 300) is the size of the answer's
// body; request_path.js passes the size of Switchboard's answer in its case (a).
#include <llhttp.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

struct Connection {
  uv_tcp_t tcp;
  llhttp_t parser;
  uv_write_t write;  // at most one write outstanding (see answer())
  bool writing = false;
  std::size_t pending = 0;  // answers owed once the outstanding write completes
};

llhttp_settings_t settings;
std::string response;         // head and body, built once
char read_buffer[64 * 1024];  // one buffer for every connection of the loop
unsigned long long answered = 0;

void on_close(uv_handle_t* handle) { delete static_cast<Connection*>(handle->data); }

void close_connection(Connection& c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c.tcp)))
    uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), on_close);
}

void flush(Connection& c);

void on_written(uv_write_t* req, int status) {
  auto& c = *static_cast<Connection*>(req->data);
  c.writing = false;
  if (status < 0) return close_connection(c);
  flush(c);
}

// Writes the answers owed: at once when the socket takes them (the usual case),
// else through one uv_write of the fixed bytes, as many times as owed.
void flush(Connection& c) {
  while (c.pending > 0 && !c.writing) {
    --c.pending;
    uv_buf_t buf = uv_buf_init(response.data(), static_cast<unsigned>(response.size()));
    const int sent = uv_try_write(reinterpret_cast<uv_stream_t*>(&c.tcp), &buf, 1);
    if (sent == static_cast<int>(response.size())) continue;
    if (sent < 0 && sent != UV_EAGAIN) return close_connection(c);
    const std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
    buf = uv_buf_init(response.data() + done, static_cast<unsigned>(response.size() - done));
    c.write.data = &c;
    c.writing = true;
    if (uv_write(&c.write, reinterpret_cast<uv_stream_t*>(&c.tcp), &buf, 1, on_written) < 0)
      return close_connection(c);
  }
}

int on_message_complete(llhttp_t* parser) {
  auto& c = *static_cast<Connection*>(parser->data);
  ++c.pending;
  ++answered;
  return 0;
}

void on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(read_buffer, sizeof read_buffer);
}

void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto& c = *static_cast<Connection*>(stream->data);
  if (nread < 0) return close_connection(c);
  if (nread == 0) return;
  if (llhttp_execute(&c.parser, buf->base, static_cast<std::size_t>(nread)) != HPE_OK)
    return close_connection(c);
  flush(c);
}

void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  auto* c = new Connection;
  uv_tcp_init(server->loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) return close_connection(*c);
  uv_tcp_nodelay(&c->tcp, 1);
  llhttp_init(&c->parser, HTTP_REQUEST, &settings);
  c->parser.data = c;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc, on_read);
}

// A BOSH-like answer of exactly `body_bytes` bytes, under the headers Switchboard
// sends with one (its Date is per second; a fixed one here has the same length).
std::string make_response(std::size_t body_bytes) {
  const std::string open = "<body xmlns='http://jabber.org/protocol/httpbind' x='";
  const std::string close = "'/>";
  std::string body = open;
  if (body_bytes > open.size() + close.size())
    body.append(body_bytes - open.size() - close.size(), 'x');
  body += close;
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string("HTTP/1.1 200 OK\r\nDate: ") + date +
         "\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

void on_signal(uv_signal_t* signal, int) { uv_stop(signal->loop); }

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::size_t body_bytes = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--listen") == 0)
      listen = argv[i + 1];
    else if (std::strcmp(argv[i], "--body-bytes") == 0)
      body_bytes = std::strtoul(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s --listen IP:PORT [--body-bytes N]\n", argv[0]);
      return 2;
    }
  }
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "--listen wants IP:PORT\n");
    return 2;
  }
  response = make_response(body_bytes);

  llhttp_settings_init(&settings);
  settings.on_message_complete = on_message_complete;

  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  sockaddr_in addr{};
  if (uv_ip4_addr(listen.substr(0, colon).c_str(), std::atoi(listen.c_str() + colon + 1), &addr) !=
          0 ||
      uv_tcp_bind(&server, reinterpret_cast<const sockaddr*>(&addr), 0) != 0 ||
      uv_listen(reinterpret_cast<uv_stream_t*>(&server), 1024, on_connection) != 0) {
    std::fprintf(stderr, "cannot listen on %s\n", listen.c_str());
    return 1;
  }
  sockaddr_in bound{};
  int length = sizeof bound;
  uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&bound), &length);
  char ip[INET_ADDRSTRLEN];
  uv_ip4_name(&bound, ip, sizeof ip);
  std::printf("listening on %s:%d (answer %zu bytes, body %zu)\n", ip, ntohs(bound.sin_port),
              response.size(), body_bytes);
  std::fflush(stdout);

  uv_signal_t term, interrupt;
  uv_signal_init(loop, &term);
  uv_signal_init(loop, &interrupt);
  uv_signal_start(&term, on_signal, SIGTERM);
  uv_signal_start(&interrupt, on_signal, SIGINT);
  uv_run(loop, UV_RUN_DEFAULT);
  std::printf("answered %llu requests\n", answered);
  return 0;
}
