// Overload control's adaptive rate (app/login_pacer.hpp): down when a second with
// logins was overloaded (loop lag, failed or slow openings), further when far
// behind, never below the floor; up only when logins were refused for want of
// rate and nothing was overloaded; and a second without logins changes nothing.
#include <doctest/doctest.h>

#include "app/process/login_pacer.hpp"

using sb::app::LoginRate;

namespace {
LoginRate::Window busy(std::uint64_t logins = 10) {
  LoginRate::Window window;
  window.logins = logins;
  window.opened = logins;
  window.max_opening_ms = 20;
  window.max_lag_ms = 5;
  return window;
}
}  // namespace

TEST_CASE("login rate: each kind of overload brings it down, by a quarter or a half") {
  LoginRate rate(1000, 10000, {50, 2000});
  auto lagging = busy();
  lagging.max_lag_ms = 80;
  CHECK(std::string(rate.end_window(lagging)) == "the loop lagged");
  CHECK(rate.rate() == doctest::Approx(750));
  auto far = busy();
  far.max_lag_ms = 500;
  rate.end_window(far);
  CHECK(rate.rate() == doctest::Approx(375));
  auto failing = busy();
  failing.failed = 1;
  CHECK(std::string(rate.end_window(failing)) == "openings failed");
  auto slow = busy();
  slow.max_opening_ms = 2500;
  CHECK(std::string(rate.end_window(slow)) == "openings were slow");
  CHECK(rate.rate() < 375 * 0.75 * 0.75 + 1);
}

TEST_CASE("login rate: never below the floor, never above the maximum") {
  LoginRate rate(100, 150, {50, 2000});
  auto lagging = busy();
  lagging.max_lag_ms = 1000;
  for (int i = 0; i < 50; ++i) rate.end_window(lagging);
  CHECK(rate.rate() == doctest::Approx(LoginRate::kMinRate));
  auto starved = busy();
  starved.starved = true;
  for (int i = 0; i < 200; ++i) rate.end_window(starved);
  CHECK(rate.rate() == doctest::Approx(150));
}

TEST_CASE("login rate: up only when starved and healthy, an idle second teaches nothing") {
  LoginRate rate(100, 10000, {50, 2000});
  CHECK(std::string(rate.end_window(busy())) == "");
  CHECK(rate.rate() == doctest::Approx(100));  // not starved: no reason to grow
  auto starved = busy();
  starved.starved = true;
  rate.end_window(starved);
  CHECK(rate.rate() == doctest::Approx(112.5));
  LoginRate::Window idle;  // no logins, whatever the lag
  idle.max_lag_ms = 5000;
  CHECK(std::string(rate.end_window(idle)) == "");
  CHECK(rate.rate() == doctest::Approx(112.5));
}
