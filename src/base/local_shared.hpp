// LocalShared<T>: an 8-byte, non-atomic, reference-counted pointer to an
// immutable T, for values that many objects of one event loop share: the upstream
// target and the BOSH version that sessions agreed on, the namespaces an upstream
// stream declared.
//
// Why not std::shared_ptr: it is two pointers (16 bytes) and counts atomically.
// Every idle session holds a few of these, each object lives on one loop thread
// (one worker process), and at a million sessions every 8 bytes is 8 MB. The
// count sits next to the value, in one allocation, as make_shared does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

namespace sb::base {

template <typename T>
class LocalShared {
 public:
  LocalShared() = default;
  LocalShared(std::nullptr_t) {}  // NOLINT: null converts implicitly, as for shared_ptr

  template <typename... Args>
  static LocalShared make(Args&&... args) {
    LocalShared shared;
    shared.box_ = new Box{T(std::forward<Args>(args)...), 1};
    return shared;
  }

  LocalShared(const LocalShared& other) : box_(other.box_) {
    if (box_ != nullptr) ++box_->refs;
  }
  LocalShared(LocalShared&& other) noexcept : box_(std::exchange(other.box_, nullptr)) {}
  LocalShared& operator=(LocalShared other) noexcept {
    std::swap(box_, other.box_);
    return *this;
  }
  ~LocalShared() { release(); }

  void reset() {
    release();
    box_ = nullptr;
  }
  const T* get() const { return box_ != nullptr ? &box_->value : nullptr; }
  const T& operator*() const { return box_->value; }
  const T* operator->() const { return &box_->value; }
  explicit operator bool() const { return box_ != nullptr; }
  bool operator==(std::nullptr_t) const { return box_ == nullptr; }
  // How many holders share the value (0 when null); for tests.
  std::uint32_t use_count() const { return box_ != nullptr ? box_->refs : 0; }

 private:
  struct Box {
    T value;
    std::uint32_t refs;
  };
// GCC 12 warns that another holder's box is used after this delete: it cannot
// see that the count keeps a shared box alive (a false positive with inlined
// reference counts).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
  void release() {
    if (box_ != nullptr && --box_->refs == 0) delete box_;
  }
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif
  Box* box_ = nullptr;
};

}  // namespace sb::base
