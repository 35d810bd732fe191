// Histogram: latency samples in log-linear buckets, HdrHistogram's idea in a few
// lines. Values (microseconds) below 128 get a bucket each; above, every power of two
// is split into 64 equal buckets, so a bucket is at most 1/64 (1.6 %) of its value
// wide, from 1 us to 2^40 us. The bucket array is fixed (2,304 counters), so
// recording is a few instructions and two histograms merge by adding counters:
// that is how the per-second intervals, the whole run and the --procs children
// combine without keeping a sorted vector of every sample.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::soak {

class Histogram {
 public:
  static constexpr unsigned kLinearBits = 7;                  // 0..127 exact
  static constexpr unsigned kHalf = 1u << (kLinearBits - 1);  // 64 sub-buckets
  static constexpr unsigned kMaxShift = 34;                   // up to 2^41 - 1 us
  static constexpr std::size_t kBuckets = (1u << kLinearBits) + kMaxShift * kHalf;

  void record(std::uint64_t value_us);
  void merge(const Histogram& other);
  void clear();

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  // The value at quantile q (0..1): the midpoint of the bucket holding it, capped by
  // the largest value recorded. 0 when empty.
  std::uint64_t quantile(double q) const;

  // Sparse text form "count max idx:n idx:n ...", for the --procs pipe.
  std::string serialize() const;
  bool deserialize(std::string_view text);

  static std::size_t index_of(std::uint64_t value);
  static std::uint64_t midpoint_of(std::size_t index);

 private:
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace sb::soak
