// The legacy HTTP codes of the conditions; see condition.hpp.
#include "bosh/condition.hpp"

namespace sb::bosh {

int legacy_http_status(Condition condition) {
  switch (condition) {
    case Condition::kBadRequest: return 400;
    case Condition::kPolicyViolation: return 403;
    case Condition::kItemNotFound: return 404;
    default: return 0;
  }
}

}  // namespace sb::bosh
