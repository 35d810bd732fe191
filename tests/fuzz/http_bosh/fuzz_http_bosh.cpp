// fuzz_http_bosh: the HTTP + BOSH request path, from raw client bytes to upstream
// stanzas and back, with no sockets. Each input is a script (script.hpp) run
// against a fresh World (world.hpp), which checks its invariants after every
// command and once more when everything is shut down and freed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http_bosh/script.hpp"
#include "http_bosh/world.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  sb::fuzz::World world;
  for (const sb::fuzz::Command& command : sb::fuzz::parse_script(input)) world.run(command);
  world.finish();
  return 0;
}
