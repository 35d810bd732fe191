// Exact-path routing with the HTTP-level answers handlers should not repeat; see
// router.hpp.
#include "http/router.hpp"

namespace sb::http {
namespace {

constexpr const char* kPlainText = "text/plain; charset=utf-8";

}  // namespace

Router::Router(const CorsPolicy& cors) : cors_(cors) {}

void Router::add(std::string path, MethodMask methods, Handler& handler) {
  routes_.insert_or_assign(std::move(path), Route{methods, &handler});
}

std::string Router::allow_header(MethodMask methods) {
  std::string allow;
  const auto append = [&allow](const char* name) {
    if (!allow.empty()) allow += ", ";
    allow += name;
  };
  if (methods & method_bit(Method::kGet)) append("GET");
  // HEAD is served for every GET route.
  if (methods & (method_bit(Method::kGet) | method_bit(Method::kHead))) append("HEAD");
  if (methods & method_bit(Method::kPost)) append("POST");
  append("OPTIONS");  // the router answers it for every route
  return allow;
}

void Router::handle(Request& request, Exchange& exchange) {
  const auto it = routes_.find(request.path);
  if (it == routes_.end()) {
    exchange.send(Response::text(404, kPlainText, "Not Found\n"));
    return;
  }
  const Route& route = it->second;
  const MethodMask asked = method_bit(request.method);

  if (request.method == Method::kOptions && (route.methods & asked) == 0) {
    exchange.send(cors_.preflight(request, allow_header(route.methods)));
    return;
  }
  if (request.method == Method::kHead && (route.methods & asked) == 0 &&
      (route.methods & method_bit(Method::kGet)) != 0) {
    // The connection remembers the request was HEAD and sends no body.
    request.method = Method::kGet;
  } else if ((route.methods & asked) == 0) {
    Response response = Response::text(405, kPlainText, "Method Not Allowed\n");
    response.extra_headers.emplace_back("Allow", allow_header(route.methods));
    exchange.send(std::move(response));
    return;
  }
  route.handler->handle(request, exchange);
}

}  // namespace sb::http
