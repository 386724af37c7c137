//===- RopeFrequencies.h - RoPE frequencies and their parameters -*- C++
//-*-===//
//
// A rotary embedding is fixed by one frequency per rotated pair. Hugging Face
// derives them from theta (f_i = theta^(-2i/d)) and an optional scaling rule;
// an ONNX export only holds the frequencies (or tables computed from them).
// These functions go both ways.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ROPEFREQUENCIES_H
#define QTC_LIB_IMPORT_ROPEFREQUENCIES_H

#include "HostTensor.h"
#include "TransformerConfig.h"

#include "llvm/Support/Error.h"

#include <vector>

namespace qtc {

/// The frequencies Hugging Face computes for `theta`, `scaling` and
/// `headDim` (transformers' default, linear and llama3 rules).
std::vector<double> ropeFrequencies(double theta,
                                    const RopeScalingConfig &scaling,
                                    int64_t headDim);

/// Reads the frequencies off cos/sin tables evaluated for positions
/// 0..positions-1 (trailing dims [positions, headDim], leading dims 1) and
/// checks the tables are the rotate-half layout: column i and i + headDim/2
/// both hold cos/sin(p * f_i).
llvm::Expected<std::vector<double>> frequenciesFromTables(const HostTensor &cos,
                                                          const HostTensor &sin,
                                                          int64_t headDim,
                                                          int64_t positions);

struct RopeFit {
  float theta = 0.0f;
  RopeScalingConfig scaling;
};

/// Recovers theta (and a linear scaling factor when f_0 != 1) from
/// frequencies. Theta is the value with the fewest significant digits that
/// reproduces every frequency to the precision the frequencies were stored
/// in (exporters often keep them in bf16), so 10000 comes back as 10000,
/// not 9990.7. Fails when the frequencies follow no theta (llama3-style
/// scaling, which needs its parameters from a config).
llvm::Expected<RopeFit> fitRopeTheta(llvm::ArrayRef<double> frequencies,
                                     int64_t headDim);

/// Whether `frequencies` are those of `theta` and `scaling`, to the
/// precision they were stored in.
bool frequenciesMatch(llvm::ArrayRef<double> frequencies, double theta,
                      const RopeScalingConfig &scaling, int64_t headDim);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ROPEFREQUENCIES_H
