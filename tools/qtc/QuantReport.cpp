//===- QuantReport.cpp - qtc quant-report: an artifact's quantized layers -===//

#include "QuantReport.h"
#include "SqnrPlot.h"

#include "qtc/rt/Artifact.h"
#include "qtc/rt/KvMemory.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>

namespace qtc {

namespace fb = rt::fb;

namespace {

std::string str(const flatbuffers::String *s) { return s ? s->str() : std::string(); }

} // namespace

int printQuantReport(const std::string &path, bool json, const std::string &plotPath,
                     llvm::raw_ostream &os, llvm::raw_ostream &errs) {
  if (!plotPath.empty() && !llvm::StringRef(plotPath).ends_with(".svg")) {
    errs << "qtc quant-report: --plot writes SVG; name the file FILE.svg (got '"
         << plotPath << "')\n";
    return 1;
  }
  rt::StatusOr<std::unique_ptr<rt::Artifact>> artifact = rt::Artifact::open(path);
  if (!artifact) {
    errs << "qtc quant-report: " << artifact.status().toString() << "\n";
    return 1;
  }
  const fb::Artifact &root = (*artifact)->root();
  llvm::json::Array layers;
  uint64_t bytes = 0, f16Bytes = 0;
  double sqnrSum = 0, sqnrMin = INFINITY;
  int count = 0;
  std::vector<PlottedLayer> plotted;
  if (root.numerics())
    for (const fb::LayerNumerics *n : *root.numerics()) {
      llvm::json::Object layer{{"name", str(n->name())},
                               {"format", str(n->format())},
                               {"method", str(n->method())},
                               {"bits", n->bits()},
                               {"group_size", n->group_size()},
                               {"out_features", n->out_features()},
                               {"in_features", n->in_features()},
                               {"sqnr_db", n->sqnr_db()},
                               {"max_abs_error", n->max_abs_error()},
                               {"bytes", static_cast<int64_t>(n->bytes())}};
      if (!std::isnan(n->output_sqnr_db()))
        layer["output_sqnr_db"] = n->output_sqnr_db();
      PlottedLayer p{str(n->name()), str(n->format()), n->sqnr_db(), std::nullopt};
      if (!std::isnan(n->output_sqnr_db()))
        p.outputSqnrDb = n->output_sqnr_db();
      plotted.push_back(std::move(p));
      layers.push_back(std::move(layer));
      bytes += n->bytes();
      f16Bytes += 2ull * n->out_features() * n->in_features();
      sqnrSum += n->sqnr_db();
      sqnrMin = std::min<double>(sqnrMin, n->sqnr_db());
      ++count;
    }

  if (!plotPath.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream plot(plotPath, ec);
    if (ec) {
      errs << "qtc quant-report: cannot write '" << plotPath << "': " << ec.message() << "\n";
      return 1;
    }
    writeSqnrPlot(path + " (recipe " + str(root.recipe()) + "): per-layer SQNR", plotted,
                  plot);
  }

  // The KV cache's memory per token and per GiB of budget (qtc-run --info
  // has the scheme in full).
  const fb::KvCacheSpec &kv = (*artifact)->kvCache();
  const double kvPerToken = double(rt::kvBlockBytes(kv)) / kv.block_size();
  const double kvF16PerToken = 4.0 * kv.num_layers() * kv.num_kv_heads() * kv.head_dim();
  const int64_t kvBlocksPerGiB =
      static_cast<int64_t>((1024.0 * 1024.0 * 1024.0) / double(rt::kvBlockBytes(kv)));

  if (json) {
    llvm::json::Object kvReport{{"dtype", fb::EnumNameKvDType(kv.dtype())},
                                {"block_size", kv.block_size()},
                                {"bytes_per_token", kvPerToken},
                                {"f16_bytes_per_token", kvF16PerToken},
                                {"blocks_per_gib", kvBlocksPerGiB}};
    llvm::json::Object report{{"artifact", path},
                              {"kv_cache", std::move(kvReport)},
                              {"recipe", str(root.recipe())},
                              {"producer", str(root.producer())},
                              {"layers", std::move(layers)},
                              {"quantized_bytes", static_cast<int64_t>(bytes)},
                              {"f16_bytes", static_cast<int64_t>(f16Bytes)}};
    if (count > 0) {
      report["sqnr_db_mean"] = sqnrSum / count;
      report["sqnr_db_min"] = sqnrMin;
    }
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
    return 0;
  }
  os << path << ": recipe " << str(root.recipe()) << ", " << count
     << " quantized layers\n";
  os << llvm::format("kv cache: %s in blocks of %d, %.1f bytes per token (%.2fx f16), "
                     "%lld blocks per GiB\n",
                     fb::EnumNameKvDType(kv.dtype()), kv.block_size(), kvPerToken,
                     kvPerToken / kvF16PerToken, static_cast<long long>(kvBlocksPerGiB));
  if (count == 0)
    return 0;
  os << llvm::format("%-44s %-14s %-5s %4s %5s %11s %8s %8s %9s %9s\n", "layer",
                     "format", "meth", "bits", "group", "shape", "SQNR dB",
                     "out dB", "max err", "bytes");
  for (const llvm::json::Value &v : layers) {
    const llvm::json::Object &l = *v.getAsObject();
    std::string shape = llvm::formatv("{0}x{1}", *l.getInteger("out_features"),
                                      *l.getInteger("in_features"));
    std::optional<double> out = l.getNumber("output_sqnr_db");
    os << llvm::format("%-44s %-14s %-5s %4lld %5lld %11s %8.2f %8s %9.5f %9lld\n",
                       l.getString("name")->str().c_str(),
                       l.getString("format")->str().c_str(),
                       l.getString("method")->str().c_str(),
                       static_cast<long long>(*l.getInteger("bits")),
                       static_cast<long long>(*l.getInteger("group_size")),
                       shape.c_str(), *l.getNumber("sqnr_db"),
                       out ? llvm::formatv("{0:F2}", *out).str().c_str() : "-",
                       *l.getNumber("max_abs_error"),
                       static_cast<long long>(*l.getInteger("bytes")));
  }
  os << llvm::format("SQNR mean %.2f dB, min %.2f dB; %.2f MB stored, %.2f MB "
                     "as f16 (%.2fx smaller)\n",
                     sqnrSum / count, sqnrMin, bytes / 1e6, f16Bytes / 1e6,
                     bytes ? static_cast<double>(f16Bytes) / bytes : 0.0);
  return 0;
}

} // namespace qtc
