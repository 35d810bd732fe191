// fuzz_records: the readers of the records that carry state out of a process
// (bosh/session_record.hpp, xmpp/link_record.hpp, http/connection_record.hpp,
// ws/ws_record.hpp, the upgrade channel's messages, app/upgrade/upgrade_wire.hpp,
// and a keeper's, app/keeper/keeper_wire.hpp) on damaged and hostile bytes: what
// an upgrade reads from the process before it, what a keeper and a restarted
// worker read from each other, and what crash recovery will read from storage.
//
// Whatever the bytes, decode must return (no crash, no read past the end, no
// allocation beyond what the bytes can justify), and a record it accepts must be
// one it would write: encoding it again and decoding that gives the same bytes. A
// refusal must say why. Every reader sees every input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/keeper/keeper_wire.hpp"
#include "app/upgrade/upgrade_wire.hpp"
#include "bosh/session_record.hpp"
#include "http/connection_record.hpp"
#include "support/check.hpp"
#include "ws/ws_record.hpp"
#include "xmpp/link_record.hpp"

namespace {

template <typename Record>
void read_back(std::string_view input) {
  Record record;
  std::string error;
  if (!decode(input, record, error)) {
    FUZZ_CHECK(!error.empty(), "a refusal names its reason");
    return;
  }
  const std::string again = encode(record);
  Record second;
  FUZZ_CHECK(decode(again, second, error), error);
  FUZZ_CHECK(encode(second) == again, "a record reads back as written");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  read_back<sb::bosh::SessionRecord>(input);
  read_back<sb::xmpp::LinkRecord>(input);
  read_back<sb::http::ConnectionRecord>(input);
  read_back<sb::ws::WsRecord>(input);
  read_back<sb::app::StartMessage>(input);
  read_back<sb::app::EndMessage>(input);
  read_back<std::vector<sb::app::MovingItem>>(input);
  read_back<sb::app::ForwardMessage>(input);
  read_back<sb::app::KeeperMessage>(input);
  return 0;
}
