//===- GreedyArgmax.h - The one tie rule of greedy sampling ---------------===//
//
// Greedy sampling picks the largest logit of a row; among equal maxima the
// lowest index wins, and NaN never wins (a row of NaN and -inf gives 0).
// The Engine, the host backend's forwardGreedy and the argmax_rows kernel
// (lib/Codegen/ArgmaxRowsGenerator.cpp, KernelAbi.h) all follow this rule,
// so greedy tokens do not depend on which path picked them. Header-only.
//
// The rule is applied to the logits a backend holds: f32 on the host, f16
// on the CUDA backend (its logits slot is f16, and forward() widens those
// halves to f32 exactly), so on CUDA equal maxima are those equal in f16.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_GREEDYARGMAX_H
#define QTC_RT_GREEDYARGMAX_H

#include <cstdint>
#include <limits>

namespace qtc::rt {

inline int32_t greedyArgmax(const float *row, int width) {
  int32_t best = 0;
  float bestValue = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < width; ++i)
    if (row[i] > bestValue) { // false for NaN and for later equal values
      bestValue = row[i];
      best = i;
    }
  return best;
}

} // namespace qtc::rt

#endif // QTC_RT_GREEDYARGMAX_H
