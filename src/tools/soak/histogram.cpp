// Histogram bucket arithmetic and the text form that crosses the --procs pipe.
#include "tools/soak/histogram.hpp"

#include <bit>
#include <charconv>

namespace sb::soak {

std::size_t Histogram::index_of(std::uint64_t value) {
  if (value < (1u << kLinearBits)) return static_cast<std::size_t>(value);
  const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(value));
  unsigned shift = msb - (kLinearBits - 1);  // value >> shift lies in [64, 128)
  if (shift > kMaxShift) return kBuckets - 1;
  const std::uint64_t sub = (value >> shift) - kHalf;
  return (1u << kLinearBits) + (shift - 1) * kHalf + static_cast<std::size_t>(sub);
}

std::uint64_t Histogram::midpoint_of(std::size_t index) {
  if (index < (1u << kLinearBits)) return index;
  const std::size_t rel = index - (1u << kLinearBits);
  const unsigned shift = static_cast<unsigned>(rel / kHalf) + 1;
  const std::uint64_t low = (kHalf + rel % kHalf) << shift;
  return low + ((std::uint64_t{1} << shift) >> 1);
}

void Histogram::record(std::uint64_t value_us) {
  ++buckets_[index_of(value_us)];
  ++count_;
  if (value_us > max_) max_ = value_us;
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  if (other.max_ > max_) max_ = other.max_;
}

void Histogram::clear() {
  buckets_.fill(0);
  count_ = 0;
  max_ = 0;
}

std::uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1.0) return max_;
  // The rank of the sample wanted, 1-based: ceil(q * count), at least 1.
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
  if (static_cast<double>(rank) < q * static_cast<double>(count_)) ++rank;
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const std::uint64_t mid = midpoint_of(i);
      return mid < max_ ? mid : max_;
    }
  }
  return max_;
}

std::string Histogram::serialize() const {
  std::string out = std::to_string(count_) + " " + std::to_string(max_);
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (buckets_[i] == 0) continue;
    out += ' ';
    out += std::to_string(i);
    out += ':';
    out += std::to_string(buckets_[i]);
  }
  return out;
}

namespace {

bool next_number(std::string_view& text, std::uint64_t& out, char stop) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc()) return false;
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
  if (stop != 0) {
    if (text.empty() || text.front() != stop) return false;
    text.remove_prefix(1);
  }
  return true;
}

}  // namespace

bool Histogram::deserialize(std::string_view text) {
  clear();
  if (!next_number(text, count_, 0) || !next_number(text, max_, 0)) return false;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty()) {
    std::uint64_t index = 0;
    std::uint64_t n = 0;
    if (!next_number(text, index, ':') || !next_number(text, n, 0) || index >= kBuckets)
      return false;
    buckets_[static_cast<std::size_t>(index)] += n;
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  }
  return true;
}

}  // namespace sb::soak
