// SuccessorLink: what an old worker does, once its sessions have moved (an
// upgrade in place, upgrade.hpp), with the client connections still in this
// process: it passes each one on, with its socket, to the new worker over their
// channel (kForward), rather than answer item-not-found or close it under a
// client that is about to use it.
//
// Which connections stay at the moment of the move: one with a request half
// read, one with an answer not yet written, one lingering, and (several
// workers) those another worker handed this one just before the move, which
// arrive afterwards. So:
//
// - as the endpoint's ForeignSidRouter, every request for a sid this process
//   does not hold (its session moved) goes on with its connection and the
//   request re-serialized, as a hand-over does;
// - pass_on() takes a connection handed over by another worker, with its request;
// - pass_idle() passes on every connection that has become idle and movable
//   (its answer written, nothing in flight), as a connection record, so the new
//   worker serves the client's next request on it.
//
// A TLS connection cannot go (its state is in this process): its requests get
// item-not-found as before, and it closes with the process.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "app/front/http_socket.hpp"
#include "app/upgrade/upgrade_channel.hpp"
#include "bosh/endpoint.hpp"
#include "net/tcp_stream.hpp"

namespace sb::app {

class SuccessorLink final : public bosh::ForeignSidRouter {
 public:
  SuccessorLink(std::unique_ptr<UpgradeChannel> channel, HttpSocket::Shared& sockets)
      : channel_(std::move(channel)), sockets_(sockets) {}
  SuccessorLink(const SuccessorLink&) = delete;
  SuccessorLink& operator=(const SuccessorLink&) = delete;

  // bosh::ForeignSidRouter: the connection being dispatched goes on with this
  // request. False (the endpoint answers item-not-found) if it cannot.
  bool route(std::string_view sid, http::Request& request, http::Exchange& exchange) override;
  // A connection another worker handed here: on to the successor. False if it
  // could not go (the caller serves it here).
  bool pass_on(net::TcpStream& stream, std::string_view request, std::string_view peer,
               bool tls_relayed);
  // Every idle, movable connection of `sockets` goes on. Returns how many are
  // left (still busy, or unable to go).
  std::size_t pass_idle(HttpSocketList& sockets);
  std::uint64_t passed() const { return passed_; }
  ~SuccessorLink();  // closes what route() passed on and pass_idle() has not yet

 private:
  bool send(int fd, const std::string& bytes);

  std::unique_ptr<UpgradeChannel> channel_;  // null once it failed
  HttpSocket::Shared& sockets_;
  std::uint64_t passed_ = 0;
  std::vector<HttpSocket*> released_;  // passed on from route(): to close
};

}  // namespace sb::app
