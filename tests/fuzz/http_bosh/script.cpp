// Splitting a fuzz input into Commands; see script.hpp for the format.
#include "http_bosh/script.hpp"

namespace sb::fuzz {
namespace {

constexpr std::size_t kMaxCommands = 512;  // keeps one input's run time bounded

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a decimal number at the front of `text` (at most 9 digits are used).
std::uint32_t take_number(std::string_view& text) {
  std::uint32_t value = 0;
  std::size_t digits = 0;
  while (!text.empty() && is_digit(text.front())) {
    if (digits++ < 9) value = value * 10 + static_cast<std::uint32_t>(text.front() - '0');
    text.remove_prefix(1);
  }
  return value;
}

Command parse_record(std::string_view record) {
  Command command;
  command.op = record.front();
  record.remove_prefix(1);
  command.a = take_number(record);
  if (!record.empty() && record.front() == '.') {
    record.remove_prefix(1);
    command.b = take_number(record);
  }
  if (!record.empty() && (record.front() == ' ' || record.front() == '\n')) record.remove_prefix(1);
  command.payload = record;
  return command;
}

}  // namespace

std::vector<Command> parse_script(std::string_view input) {
  std::vector<Command> commands;
  if (!input.empty() && input.front() == '@') input.remove_prefix(1);
  while (!input.empty() && commands.size() < kMaxCommands) {
    const std::size_t end = input.find("\n@");
    const std::string_view record = input.substr(0, end);
    if (!record.empty()) commands.push_back(parse_record(record));
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 2);
  }
  return commands;
}

}  // namespace sb::fuzz
