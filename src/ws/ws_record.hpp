// WsRecord: an open XMPP-over-WebSocket session as plain data, for moving its
// connection to another process (an upgrade in place), and its versioned bytes.
//
// Only an open stream moves (WsSession::movable()): what is left of it then is
// the stream's names (the client's `to` and xml:lang, kept for a restart),
// whether our <open/> went out, and where the frame parser stands: a frame read
// in part, a fragmented message assembled in part (FrameParserState). The log id
// and the client's address come along so the session keeps its name in the log
// and its place under a per-address cap. The client's socket and the server
// link (xmpp/link_record.hpp, with its socket) travel beside it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ws/frame_parser.hpp"

namespace sb::ws {

// 1: the first format (this build).
inline constexpr std::uint32_t kWsRecordVersion = 1;

struct WsRecord {
  std::uint32_t id = 0;  // the session's number in the log ("w0.ws17")
  std::string peer;      // the client's address
  std::string to;
  std::string lang;
  bool open_sent = false;
  FrameParserState parser;
};

std::string encode(const WsRecord& record);
// Reads a record written by this build or an earlier one; false, with the reason
// in `error`, for a newer version or bytes that are not a whole, sane record.
bool decode(std::string_view bytes, WsRecord& record, std::string& error);

}  // namespace sb::ws
