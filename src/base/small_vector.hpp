// SmallVector: a vector whose first N elements live inside the owner.
//
// A Session keeps its held requests and its cached responses in order. With the
// usual hold=1 there are at most two of each (requests = hold + 1), so as
// std::vectors each list was a 24-byte member plus a heap block that grew 1 -> 2
// during the session's first requests: two small allocations per list, made among
// the session's creation-time garbage, for every session. Here up to N elements
// need no allocation at all; more spill to the heap like a std::vector, and come
// back inline (the heap block freed) as soon as they fit again. The heap block's
// address shares the inline buffer's bytes (capacity N means inline), so the
// header is 8 bytes, not 16: 16 bytes less in every Session.
//
// Only what Session uses: iteration by pointer, push_back, erase, front, size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

namespace sb::base {

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
    if (spilled()) ::operator delete(static_cast<void*>(heap()));
  }

  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& front() { return data()[0]; }
  const T& front() const { return data()[0]; }

  void push_back(T value) {
    if (size_ == capacity_) grow();
    ::new (static_cast<void*>(data() + size_)) T(std::move(value));
    ++size_;
  }

  // Removes [first, last), keeping the order of the rest.
  T* erase(T* first, T* last) {
    if (first == last) return first;
    T* out = std::move(last, end(), first);
    for (T* p = out; p != end(); ++p) p->~T();
    const auto offset = first - data();
    size_ -= static_cast<std::uint32_t>(last - first);
    if (size_ <= N && spilled()) move_inline();
    return data() + offset;
  }
  T* erase(T* at) { return erase(at, at + 1); }

  void clear() {
    for (T* p = begin(); p != end(); ++p) p->~T();
    size_ = 0;
  }

 private:
  bool spilled() const { return capacity_ != N; }
  T* inline_data() { return std::launder(reinterpret_cast<T*>(storage_)); }
  const T* inline_data() const { return std::launder(reinterpret_cast<const T*>(storage_)); }
  // While spilled, the inline buffer's first bytes hold the heap block's address.
  T* heap() const {
    T* block;
    std::memcpy(&block, storage_, sizeof block);
    return block;
  }
  void set_heap(T* block) { std::memcpy(storage_, &block, sizeof block); }
  T* data() { return spilled() ? heap() : inline_data(); }
  const T* data() const { return spilled() ? heap() : inline_data(); }

  // Back to the inline buffer once the elements fit again: a session that held two
  // requests for a moment keeps no heap block for the rest of its idle life.
  void move_inline() {
    T* block = heap();
    for (std::uint32_t i = 0; i < size_; ++i) {
      ::new (static_cast<void*>(inline_data() + i)) T(std::move(block[i]));
      block[i].~T();
    }
    ::operator delete(static_cast<void*>(block));
    capacity_ = N;
  }

  void grow() {
    const std::uint32_t capacity = capacity_ * 2;
    T* bigger = static_cast<T*>(::operator new(sizeof(T) * capacity));
    T* old = data();
    for (std::uint32_t i = 0; i < size_; ++i) {
      ::new (static_cast<void*>(bigger + i)) T(std::move(old[i]));
      old[i].~T();
    }
    if (spilled()) ::operator delete(static_cast<void*>(old));
    set_heap(bigger);  // the inline elements were moved out above
    capacity_ = capacity;
  }

  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = N;  // N: the elements are inline
  static constexpr std::size_t kStorage = N * sizeof(T) < sizeof(T*) ? sizeof(T*) : N * sizeof(T);
  alignas(T) alignas(T*) unsigned char storage_[kStorage];
};

}  // namespace sb::base
