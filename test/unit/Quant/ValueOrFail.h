//===- ValueOrFail.h - Unwrap an llvm::Expected in a test -------*- C++ -*-===//
#ifndef QTC_TEST_UNIT_QUANT_VALUEORFAIL_H
#define QTC_TEST_UNIT_QUANT_VALUEORFAIL_H

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

namespace qtc::quant {

/// The value of `value`, or a test failure with its message and T{}.
template <typename T> T valueOrFail(llvm::Expected<T> value) {
  if (!value) {
    ADD_FAILURE() << llvm::toString(value.takeError());
    return T{};
  }
  return std::move(*value);
}

} // namespace qtc::quant

#endif // QTC_TEST_UNIT_QUANT_VALUEORFAIL_H
