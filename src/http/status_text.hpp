// Reason phrases for the status codes Switchboard sends. The phrase is informative
// only (clients must not depend on it) but a correct one makes logs and curl output
// readable.
#pragma once

#include <string_view>

namespace sb::http {

// "OK" for 200, "Not Found" for 404, ...; "Unknown" for codes we never send.
std::string_view status_text(int status);

}  // namespace sb::http
