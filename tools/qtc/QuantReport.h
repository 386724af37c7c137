//===- QuantReport.h - qtc quant-report: an artifact's quantized layers ---===//
#ifndef QTC_TOOLS_QTC_QUANTREPORT_H
#define QTC_TOOLS_QTC_QUANTREPORT_H

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace qtc {

// Prints, per quantized layer of the artifact at `path`, its format, method,
// bits, group, shape, weight and output SQNR, max error and stored bytes,
// then totals (bytes against the same layers in f16); as one JSON object
// when `json`. With a `plotPath` (FILE.svg) also draws the per-layer SQNR
// there (SqnrPlot.h). Returns non-zero with a message on `errs` if the
// artifact cannot be read or the plot written.
int printQuantReport(const std::string &path, bool json, const std::string &plotPath,
                     llvm::raw_ostream &os, llvm::raw_ostream &errs);

} // namespace qtc

#endif // QTC_TOOLS_QTC_QUANTREPORT_H
