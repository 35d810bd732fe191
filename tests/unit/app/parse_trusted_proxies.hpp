// A TrustedProxies list from its config text, failing the test on a bad one.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "app/front/client_address.hpp"

namespace sb::app::test {

inline TrustedProxies parse(const char* list) {
  std::string error;
  auto proxies = TrustedProxies::parse(list, error);
  REQUIRE_MESSAGE(proxies.has_value(), error);
  return *proxies;
}

}  // namespace sb::app::test
