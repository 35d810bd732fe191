// FakeXmppServer: just enough of an XMPP server, on a loopback socket, to drive an
// UpstreamLink through STARTTLS: it answers each stream header with a header and
// features (offering STARTTLS, optionally required, until TLS is on), answers
// <starttls/> with <proceed/> (or <failure/>) and then speaks TLS through a
// TestTlsServer, and answers </stream:stream> with its own and close_notify.
//
// `text` is everything it received as XML, in clear or decrypted, in order, so a
// test can check what went where; `clear` is the part that came in clear.
//
// Recorder is an engine::UpstreamEvents that writes down what the session would hear.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/upstream.hpp"
#include "net/tcp_stream.hpp"
#include "net/tls_test_peer.hpp"

namespace sb::xmpp::test {

class FakeXmppServer final : public net::StreamHandler {
 public:
  enum class Offer { kNone, kOptional, kRequired };

  explicit FakeXmppServer(SSL_CTX* tls_context) : tls_context_(tls_context) {}

  Offer offer = Offer::kOptional;
  bool refuse_tls = false;  // answer <starttls/> with <failure/>
  bool direct_tls = false;  // TLS from the first byte
  bool silent = false;      // accepts, reads, never answers

  std::string text;   // all XML received, clear or decrypted
  std::string clear;  // what came in clear
  int headers = 0;
  bool tls_on() const { return tls_ != nullptr && tls_->established(); }
  bool tls_failed() const { return tls_ != nullptr && tls_->failed; }
  bool got_close_notify() const { return tls_ != nullptr && tls_->got_close_notify; }
  int closed = 0;
  // Sends raw bytes in clear, as they are (a stanza, or a part of one).
  void push(std::string_view bytes) {
    if (stream_ != nullptr) stream_->write(std::string(bytes));
  }

  void on_read(net::TcpStream& stream, std::string_view bytes) override {
    stream_ = &stream;
    if (direct_tls && tls_ == nullptr)
      tls_ = std::make_unique<net::test::TestTlsServer>(tls_context_);
    if (tls_ != nullptr) {
      tls_->feed(bytes);
      flush_tls();
      text.append(tls_->received.substr(decrypted_));
      decrypted_ = tls_->received.size();
    } else {
      text.append(bytes);
      clear.append(bytes);
    }
    react();
  }
  void on_read_end(net::TcpStream& stream, int) override { stream.close(); }
  void on_write_error(net::TcpStream& stream, int) override { stream.close(); }
  void on_closed(net::TcpStream&) override {
    stream_ = nullptr;
    ++closed;
  }

 private:
  // Answers every complete request in `text` that was not answered yet, in order.
  void react() {
    while (!silent) {
      const std::size_t header = text.find("<stream:stream", scanned_);
      const std::size_t starttls = text.find("<starttls", scanned_);
      const std::size_t end = text.find("</stream:stream>", scanned_);
      const std::size_t next = std::min({header, starttls, end});
      if (next == std::string::npos) return;
      const std::size_t close = text.find('>', next);
      if (close == std::string::npos) return;
      scanned_ = close + 1;
      if (next == header) {
        answer_header();
      } else if (next == starttls) {
        answer_starttls();
      } else {
        reply("</stream:stream>");
        if (tls_ != nullptr) {
          tls_->close_notify();
          flush_tls();
        }
      }
    }
  }

  void answer_header() {
    ++headers;
    const bool secure = tls_on();
    reply(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' id='" +
        std::string(secure ? "tls-" : "plain-") + std::to_string(headers) +
        "' from='localhost' version='1.0'>");
    std::string features = "<stream:features>";
    if (!secure && offer != Offer::kNone) {
      features += "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>";
      if (offer == Offer::kRequired) features += "<required/>";
      features += "</starttls>";
    }
    features +=
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
        "</mechanisms></stream:features>";
    reply(features);
  }

  void answer_starttls() {
    if (refuse_tls) {
      reply("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
      return;
    }
    reply("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    tls_ = std::make_unique<net::test::TestTlsServer>(tls_context_);
    decrypted_ = 0;
  }

  void reply(const std::string& xml) {
    if (stream_ == nullptr) return;
    if (tls_on()) {
      tls_->write(xml);
      flush_tls();
    } else {
      stream_->write(xml);
    }
  }

  void flush_tls() {
    std::string out = tls_->take_output();
    if (stream_ != nullptr && !out.empty()) stream_->write(std::move(out));
  }

  SSL_CTX* tls_context_;
  net::TcpStream* stream_ = nullptr;
  std::unique_ptr<net::test::TestTlsServer> tls_;
  std::size_t decrypted_ = 0;  // of tls_->received, already appended to text
  std::size_t scanned_ = 0;    // of text, already answered
};

struct Recorder final : engine::UpstreamEvents {
  std::vector<engine::StreamHeader> opened;
  std::vector<std::string> stanzas;
  std::optional<engine::UpstreamEnd> closed;
  std::string detail;

  void upstream_opened(const engine::StreamHeader& header) override { opened.push_back(header); }
  void upstream_stanza(std::string&& stanza) override { stanzas.push_back(std::move(stanza)); }
  void upstream_batch_end() override {}
  void upstream_closed(engine::UpstreamEnd end, std::string&& d) override {
    closed = end;
    detail = std::move(d);
  }
};

}  // namespace sb::xmpp::test
