// SmallVector: a vector whose first N elements live inside the owner.
//
// A Session keeps its held requests and its cached responses in order. With the
// usual hold=1 there are at most two of each (requests = hold + 1), so as
// std::vectors each list was a 24-byte member plus a heap block that grew 1 -> 2
// during the session's first requests: two small allocations per list, made among
// the session's creation-time garbage, for every session. Here up to N elements
// need no allocation at all; more spill to the heap like a std::vector, and come
// back inline (the heap block freed) as soon as they fit again.
//
// Only what Session uses: iteration by pointer, push_back, erase, front, size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

namespace sb::bosh {

template <typename T, std::uint32_t N>
class SmallVector {
 public:
  static_assert(N >= 1, "at least one element inline");
  using iterator = T*;
  using const_iterator = const T*;

  SmallVector() = default;
  SmallVector(const SmallVector&) = delete;
  SmallVector& operator=(const SmallVector&) = delete;
  ~SmallVector() {
    clear();
    if (data_ != inline_data()) ::operator delete(static_cast<void*>(data_));
  }

  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }

  void push_back(T value) {
    if (size_ == capacity_) grow();
    ::new (static_cast<void*>(data_ + size_)) T(std::move(value));
    ++size_;
  }

  // Removes [first, last), keeping the order of the rest.
  T* erase(T* first, T* last) {
    if (first == last) return first;
    T* out = std::move(last, end(), first);
    for (T* p = out; p != end(); ++p) p->~T();
    const auto offset = first - data_;
    size_ -= static_cast<std::uint32_t>(last - first);
    if (size_ <= N && data_ != inline_data()) move_inline();
    return data_ + offset;
  }
  T* erase(T* at) { return erase(at, at + 1); }

  void clear() {
    for (T* p = begin(); p != end(); ++p) p->~T();
    size_ = 0;
  }

 private:
  T* inline_data() { return std::launder(reinterpret_cast<T*>(inline_)); }

  // Back to the inline buffer once the elements fit again: a session that held two
  // requests for a moment keeps no heap block for the rest of its idle life.
  void move_inline() {
    T* heap = data_;
    for (std::uint32_t i = 0; i < size_; ++i) {
      ::new (static_cast<void*>(inline_data() + i)) T(std::move(heap[i]));
      heap[i].~T();
    }
    ::operator delete(static_cast<void*>(heap));
    data_ = inline_data();
    capacity_ = N;
  }

  void grow() {
    const std::uint32_t capacity = capacity_ * 2;
    T* bigger = static_cast<T*>(::operator new(sizeof(T) * capacity));
    for (std::uint32_t i = 0; i < size_; ++i) {
      ::new (static_cast<void*>(bigger + i)) T(std::move(data_[i]));
      data_[i].~T();
    }
    if (data_ != inline_data()) ::operator delete(static_cast<void*>(data_));
    data_ = bigger;
    capacity_ = capacity;
  }

  T* data_ = inline_data();
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = N;
  alignas(T) unsigned char inline_[N * sizeof(T)];
};

}  // namespace sb::bosh
