// EngineLog: the worker's engine::EngineEvents, written to the log. Session starts
// and ends are info lines (one per session, cheap next to a login); refused
// requests are info lines too, so an operator sees hostile or broken clients.
// Sids are shortened: they are secrets.
#pragma once

#include "engine/engine_events.hpp"

namespace sb::app {

class EngineLog final : public engine::EngineEvents {
 public:
  void session_created(std::string_view sid, std::string_view peer, std::string_view to) override;
  void session_ended(std::string_view sid, engine::Condition condition,
                     std::string_view reason) override;
  void request_refused(std::string_view peer, engine::Refusal refusal,
                       std::string_view reason) override;
};

}  // namespace sb::app
