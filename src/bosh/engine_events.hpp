// EngineEvents: what the BOSH engine tells the outside world about sessions and
// refused requests, so app/ can log them (and later count them for metrics)
// without bosh/ knowing about logging. All calls are optional: SessionTable holds
// a null pointer until the owner sets one.
#pragma once

#include <string_view>

#include "bosh/condition.hpp"

namespace sb::bosh {

class EngineEvents {
 public:
  virtual void session_created(std::string_view sid, std::string_view peer, std::string_view to) = 0;
  // `condition` is what the client was told (kNone for a clean end or a silent one);
  // `reason` says why in a few words ("inactivity", "client terminate", ...).
  virtual void session_ended(std::string_view sid, Condition condition, std::string_view reason) = 0;
  // A request answered with an error where no session could be named or created.
  virtual void request_refused(std::string_view peer, std::string_view reason) = 0;

 protected:
  ~EngineEvents() = default;
};

}  // namespace sb::bosh
