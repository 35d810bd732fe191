// The request methods Switchboard tells apart; everything else is kOther.
#pragma once

#include <cstdint>

namespace sb::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kOptions, kOther };

}  // namespace sb::http
