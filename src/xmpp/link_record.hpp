// LinkRecord: an XMPP server link as plain data, and its versioned byte form:
// what travels beside the link's socket when the link moves to another process
// (UpstreamLink::hand_off and UpstreamLink::adopt).
//
// A link moves only when it is plainly open and settled (UpstreamLink::movable):
// no TLS (OpenSSL keeps that state in the process), no connect, no stream opening
// or restart under way, nothing queued for the server. Then the state left is
// small: how its session wants elements framed, the server's stream declarations
// (to fix the namespaces of what comes next), the name of the stream element, and
// the bytes of a stanza the server has begun and not finished. Bytes the server
// sends meanwhile wait in the socket, which the new process reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/upstream.hpp"
#include "xml/namespace_fixup.hpp"

namespace sb::xmpp {

// 1: the first format (this build).
inline constexpr std::uint32_t kLinkRecordVersion = 1;

struct LinkRecord {
  engine::StanzaFraming framing = engine::StanzaFraming::kBoshBody;
  xml::StreamNamespaces namespaces;
  std::string stream_name = "stream:stream";
  std::string unfinished;  // the first bytes of a stanza not yet complete
};

std::string encode(const LinkRecord& record);
// Reads a record written by this build or an earlier one; false, with the reason
// in `error`, for a newer version or damaged bytes.
bool decode(std::string_view bytes, LinkRecord& record, std::string& error);

}  // namespace sb::xmpp
