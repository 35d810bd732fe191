// Deterministic session ids for the fuzz world.
//
// bosh::make_sid() draws 128 bits from OpenSSL's RAND_bytes. A fuzz input must
// behave the same every time it runs (or libFuzzer cannot minimize or reproduce
// it), and a script must be able to name a session. So the fuzz_http_bosh binary
// is linked with `-Wl,--wrap=RAND_bytes`: the call in sid.cpp (and only calls in
// our own statically linked objects) lands in __wrap_RAND_bytes, which returns the
// bytes that encode fuzz_sid(k) for the k-th session of the current input:
// "fuzzsid00000000000000A", "fuzzsid00000000000001A", ...
#pragma once

#include <cstdint>
#include <string>

namespace sb::fuzz {

// The sid the k-th session of an input gets (the sid_prefix must be empty).
std::string fuzz_sid(std::uint32_t k);
// Starts numbering again at 0: call at the start of every input.
void reset_sids();
// How many sids were made since reset_sids().
std::uint32_t sids_made();

}  // namespace sb::fuzz
