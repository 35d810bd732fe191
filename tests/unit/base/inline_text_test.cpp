// InlineText, the sid inside the Session.
#include <doctest/doctest.h>

#include <string>

#include "base/inline_text.hpp"

using sb::base::InlineText;

TEST_CASE("InlineText keeps short text inline and long text whole") {
  const InlineText sid("w3.AbCdEfGhIjKlMnOpQrStUv");
  CHECK(sid.view() == "w3.AbCdEfGhIjKlMnOpQrStUv");
  const std::string long_text(InlineText::kInline + 20, 'x');
  const InlineText long_sid(long_text);
  CHECK(long_sid.view() == long_text);
  const InlineText empty("");
  CHECK(empty.view().empty());
}
