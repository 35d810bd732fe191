#include "bosh/response_cache.hpp"

#include <memory>
#include <utility>

#include "bosh/body_writer.hpp"

namespace sb::bosh {
namespace {
// Unused capacity a kept response may keep (a copy costs more than this saves).
constexpr std::size_t kMaxKeptSlack = 32;
}  // namespace

http::SharedBody ResponseCache::share(std::string body) {
  static const http::SharedBody kEmpty = std::make_shared<const std::string>(BodyWriter().finish());
  if (body == *kEmpty) return kEmpty;
  return std::make_shared<const std::string>(std::move(body));
}

http::SharedBody ResponseCache::add(std::uint64_t rid, std::string body, std::uint64_t now_ms,
                                    std::size_t limit) {
  // A kept body may stay for as long as the session idles: give back what the
  // writer reserved and did not use (the creation response's doubling, above all).
  if (body.capacity() - body.size() > kMaxKeptSlack) body.shrink_to_fit();
  http::SharedBody shared = share(std::move(body));
  if (limit != 0 && entries_.size() >= limit) drop_oldest();
  entries_.push_back(Entry{rid, shared, now_ms});
  bytes_ += static_cast<std::uint32_t>(shared->size());
  return shared;
}

const ResponseCache::Entry* ResponseCache::find(std::uint64_t rid) const {
  for (const Entry& entry : entries_) {
    if (entry.rid == rid) return &entry;
  }
  return nullptr;
}

void ResponseCache::drop_through(std::uint64_t rid) {
  while (!entries_.empty() && entries_.front().rid <= rid) drop_oldest();
}

void ResponseCache::drop_oldest() {
  bytes_ -= static_cast<std::uint32_t>(entries_.front().body->size());
  entries_.erase(entries_.begin());
}

}  // namespace sb::bosh
