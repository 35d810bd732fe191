// EngineEvents' enums and the label words metrics count them by.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "engine/engine_events.hpp"

using sb::engine::Refusal;
using sb::engine::refusal_label;
using sb::engine::request_kind_label;
using sb::engine::RequestKind;

TEST_CASE("every refusal and request kind has its own label word") {
  std::set<std::string> refusals;
  for (unsigned i = 0; i < static_cast<unsigned>(Refusal::kCount_); ++i) {
    refusals.emplace(refusal_label(static_cast<Refusal>(i)));
  }
  CHECK(refusals.size() == static_cast<std::size_t>(Refusal::kCount_));
  CHECK(refusals.count("other") == 0);
  CHECK(refusal_label(Refusal::kPerAddressCap) == "max_sessions_per_ip");
  CHECK(refusal_label(Refusal::kWsHandshake) == "websocket_handshake");
  std::set<std::string> kinds;
  for (unsigned i = 0; i < static_cast<unsigned>(RequestKind::kCount_); ++i) {
    kinds.emplace(request_kind_label(static_cast<RequestKind>(i)));
  }
  CHECK(kinds.size() == static_cast<std::size_t>(RequestKind::kCount_));
  CHECK(request_kind_label(RequestKind::kCreate) == "create");
}
