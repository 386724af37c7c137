//===- SqnrPlot.h - Per-layer SQNR as an SVG bar chart ---------------------===//
//
// `qtc quant-report ART --plot FILE.svg`: one bar per quantized layer (its
// weight SQNR), a dot for its output SQNR over the calibration activations
// where the artifact has one, layer names along the axis. SVG because it
// carries the labels as text and needs no image library; any browser shows
// it and any converter turns it into a PNG.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TOOLS_QTC_SQNRPLOT_H
#define QTC_TOOLS_QTC_SQNRPLOT_H

#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace qtc {

struct PlottedLayer {
  std::string name, format;
  double sqnrDb = 0;
  std::optional<double> outputSqnrDb;
};

// Writes the chart of `layers` titled `title` to `os`.
void writeSqnrPlot(const std::string &title, const std::vector<PlottedLayer> &layers,
                   llvm::raw_ostream &os);

} // namespace qtc

#endif // QTC_TOOLS_QTC_SQNRPLOT_H
