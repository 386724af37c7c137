//===- SqnrPlot.cpp - Per-layer SQNR as an SVG bar chart -------------------===//

#include "SqnrPlot.h"

#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>

namespace qtc {
namespace {

// Escapes the characters XML gives meaning to.
std::string xml(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

// One colour per format, so a mixed-precision plan reads at a glance.
const char *colourOf(const std::string &format, std::vector<std::string> &seen) {
  static const char *palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1",
                                  "#76b7b2", "#edc948", "#e15759", "#9c755f"};
  auto it = std::find(seen.begin(), seen.end(), format);
  size_t index = it - seen.begin();
  if (it == seen.end())
    seen.push_back(format);
  return palette[index % 8];
}

} // namespace

void writeSqnrPlot(const std::string &title, const std::vector<PlottedLayer> &layers,
                   llvm::raw_ostream &os) {
  const double barWidth = 14, left = 60, top = 40, plotHeight = 320, labelSpace = 260;
  double top_dB = 10;
  for (const PlottedLayer &l : layers)
    top_dB = std::max({top_dB, l.sqnrDb, l.outputSqnrDb.value_or(0.0)});
  top_dB = std::ceil(top_dB / 10) * 10;
  const double width = left + barWidth * layers.size() + 200;
  const double height = top + plotHeight + labelSpace;
  auto y = [&](double dB) { return top + plotHeight * (1 - std::max(0.0, dB) / top_dB); };

  os << llvm::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                     "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"10\">\n",
                     width, height);
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << llvm::format("<text x=\"%.0f\" y=\"20\" font-size=\"14\">", left) << xml(title)
     << "</text>\n";
  for (double dB = 0; dB <= top_dB; dB += 10) {
    os << llvm::format("<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#ddd\"/>\n",
                       left, left + barWidth * layers.size(), y(dB), y(dB));
    os << llvm::format("<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.0f dB</text>\n",
                       left - 4, y(dB) + 3, dB);
  }
  std::vector<std::string> formats;
  for (size_t i = 0; i < layers.size(); ++i) {
    const PlottedLayer &l = layers[i];
    double x = left + barWidth * i;
    os << llvm::format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                       "fill=\"%s\"><title>",
                       x + 1, y(l.sqnrDb), barWidth - 2, y(0) - y(l.sqnrDb),
                       colourOf(l.format, formats))
       << xml(l.name) << llvm::format(": %.2f dB", l.sqnrDb) << "</title></rect>\n";
    if (l.outputSqnrDb)
      os << llvm::format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"black\"/>\n",
                         x + barWidth / 2, y(*l.outputSqnrDb));
    os << llvm::format("<text transform=\"translate(%.1f,%.1f) rotate(60)\">",
                       x + barWidth / 2, y(0) + 6)
       << xml(l.name) << "</text>\n";
  }
  // Legend: formats, and the output-SQNR marker.
  double lx = left + barWidth * layers.size() + 16, ly = top;
  for (const std::string &f : formats) {
    std::vector<std::string> again = formats;
    os << llvm::format("<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>",
                       lx, ly, colourOf(f, again))
       << llvm::format("<text x=\"%.0f\" y=\"%.0f\">", lx + 14, ly + 9) << xml(f)
       << " weight SQNR</text>\n";
    ly += 16;
  }
  os << llvm::format("<circle cx=\"%.0f\" cy=\"%.0f\" r=\"3\" fill=\"black\"/>"
                     "<text x=\"%.0f\" y=\"%.0f\">output SQNR</text>\n",
                     lx + 5, ly + 5, lx + 14, ly + 9);
  os << "</svg>\n";
}

} // namespace qtc
