// Router: the Handler at the top of the HTTP stack, sending each request to the
// Handler registered for its exact path.
//
// Paths are matched exactly (no prefixes, no patterns): Switchboard serves a handful
// of fixed paths (the BOSH endpoint, a status page, the demo files). The router also
// answers what no handler should have to: 404 for unknown paths, 405 (with Allow)
// for a method the route does not take, CORS preflights (OPTIONS), and HEAD on a
// GET route (the handler sees a GET; the connection drops the body and keeps its
// Content-Length).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <utility>

#include "http/cors.hpp"
#include "http/exchange.hpp"

namespace sb::http {

using MethodMask = std::uint8_t;

constexpr MethodMask method_bit(Method method) {
  return static_cast<MethodMask>(1u << static_cast<unsigned>(method));
}

constexpr MethodMask method_mask(std::initializer_list<Method> methods) {
  MethodMask mask = 0;
  for (const Method method : methods) mask = static_cast<MethodMask>(mask | method_bit(method));
  return mask;
}

class Router final : public Handler {
 public:
  // The policy answers preflights; it must outlive the router.
  explicit Router(const CorsPolicy& cors);

  // Routes `path` (e.g. "/http-bind") to `handler` for `methods`. A later add() of
  // the same path replaces the earlier one. The handler must outlive the router.
  void add(std::string path, MethodMask methods, Handler& handler);
  void add(std::string path, std::initializer_list<Method> methods, Handler& handler) {
    add(std::move(path), method_mask(methods), handler);
  }

  void handle(Request& request, Exchange& exchange) override;

  // "GET, HEAD, POST, OPTIONS" style list of what a route accepts (for Allow).
  static std::string allow_header(MethodMask methods);

 private:
  struct Route {
    MethodMask methods;
    Handler* handler;
  };

  const CorsPolicy& cors_;
  std::unordered_map<std::string, Route> routes_;
};

}  // namespace sb::http
