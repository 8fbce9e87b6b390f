// Runs a callable when the scope ends unless cancelled; used to undo partial setup.
#pragma once

#include <utility>

namespace bulkhead {

template <class F>
class [[nodiscard]] Defer {
 public:
  explicit Defer(F f) : f_(std::move(f)) {}
  Defer(const Defer&) = delete;
  Defer& operator=(const Defer&) = delete;
  ~Defer() {
    if (armed_) f_();
  }
  void Cancel() { armed_ = false; }

 private:
  F f_;
  bool armed_ = true;
};

}  // namespace bulkhead
