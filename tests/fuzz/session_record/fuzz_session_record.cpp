// fuzz_session_record: bosh::decode on damaged and hostile session records
// (bosh/session_record.hpp), the bytes an upgrade reads from the process before
// it and crash recovery will read from storage.
//
// Whatever the bytes, decode must return (no crash, no read past the end, no
// allocation beyond what the bytes can justify), and a record it accepts must
// be one it would write: encoding it again and decoding that gives the same
// bytes. A refusal must say why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bosh/session_record.hpp"
#include "support/check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  sb::bosh::SessionRecord record;
  std::string error;
  if (!sb::bosh::decode(input, record, error)) {
    FUZZ_CHECK(!error.empty(), "a refusal names its reason");
    return 0;
  }
  const std::string again = sb::bosh::encode(record);
  sb::bosh::SessionRecord second;
  FUZZ_CHECK(sb::bosh::decode(again, second, error), error);
  FUZZ_CHECK(sb::bosh::encode(second) == again, "a record reads back as written");
  return 0;
}
