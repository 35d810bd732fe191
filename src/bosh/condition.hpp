// BOSH's terminal conditions (XEP-0124 §17) are the engine's Condition
// (engine/condition.hpp): what a BOSH client is told is what the log and the
// metrics count, for both transports. bosh/ names them as its own, and adds the
// HTTP codes a legacy client gets instead.
#pragma once

#include "engine/condition.hpp"

namespace sb::bosh {

using engine::Condition;
using engine::condition_from_name;
using engine::condition_name;

// The HTTP status a legacy client (no 'ver' on creation) gets instead: 400, 403,
// 404, or 0 where XEP-0124 gives no legacy code.
int legacy_http_status(Condition condition);

}  // namespace sb::bosh
