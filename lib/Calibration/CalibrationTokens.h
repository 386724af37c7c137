//===- CalibrationTokens.h - The token sequences calibration runs ---------===//
#ifndef QTC_LIB_CALIBRATION_CALIBRATIONTOKENS_H
#define QTC_LIB_CALIBRATION_CALIBRATIONTOKENS_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qtc {

using TokenSequences = std::vector<std::vector<int32_t>>;

struct CalibrationTokenOptions {
  int64_t seqLen = 256;     // tokens per sequence, bos included
  int64_t maxTokens = 8192; // in all
  int32_t bosId = -1;       // < 0: the model has none
  int32_t vocabSize = 0;
};

// Sequences from `path`: int32 little-endian ids (a `.bin` file) or text
// tokenized with the SentencePiece model at `tokenizerPath`, cut into
// sequences of options.seqLen tokens that start with bos (where the model
// has one). Errors name the file and, for bad ids, the offset.
mlir::FailureOr<TokenSequences>
readCalibrationTokens(llvm::StringRef path, llvm::StringRef tokenizerPath,
                      const CalibrationTokenOptions &options,
                      mlir::Location loc);

} // namespace qtc

#endif // QTC_LIB_CALIBRATION_CALIBRATIONTOKENS_H
