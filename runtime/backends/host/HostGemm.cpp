//===- HostGemm.cpp - The host backend's matrix multiply ------------------===//

#include "HostGemm.h"

#include "HostVectorize.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <thread>

namespace qtc::rt::host {
namespace {

constexpr int kRowTile = 4;   // rows sharing one pass over a column tile of W
constexpr int kColTile = 16;  // columns held in registers (two AVX vectors)
constexpr int kRowBlock = 64; // rows whose x stays in cache across column tiles
// Below this many multiply-adds a second thread costs more than it saves.
constexpr double kThreadingThreshold = 4.0e6;

struct TileJob {
  const float *x;         // [rows, K]
  const float *paddedTail; // the last partial row tile, zero-padded, or null
  int tailRow;             // first row of that tile
  int rows, K, N, ldw;
  const float *packed;     // [K, ldw]
  const float *bias;       // [N] or null
  const float *residual;   // [rows, N] or null
  float *y;                // [rows, N]
};

constexpr int kVectorsPerTile = kColTile / 8;

// acc[r][j] = sum_k x[r * K + k] * w[k * ldw + j], k in order, for the
// kRowTile x kColTile tile held in registers.
QTC_HOST_INLINE void
multiplyTile(const float *x, int K, const float *w, int ldw, float out[kRowTile][kColTile]) {
  Float8 acc[kRowTile][kVectorsPerTile] = {};
  for (int k = 0; k < K; ++k) {
    const float *wk = w + static_cast<size_t>(k) * ldw;
    Float8 wv[kVectorsPerTile];
    for (int v = 0; v < kVectorsPerTile; ++v)
      load8(wv[v], wk + 8 * v);
    for (int r = 0; r < kRowTile; ++r) {
      const float a = x[static_cast<size_t>(r) * K + k];
      for (int v = 0; v < kVectorsPerTile; ++v)
        acc[r][v] += a * wv[v];
    }
  }
  for (int r = 0; r < kRowTile; ++r)
    std::memcpy(out[r], acc[r], sizeof(acc[r]));
}

QTC_HOST_TARGET_CLONES
void runColumnTiles(const TileJob &job, int tileBegin, int tileEnd) {
  float acc[kRowTile][kColTile];
  for (int r0 = 0; r0 < job.rows; r0 += kRowBlock) {
    const int r1 = std::min(job.rows, r0 + kRowBlock);
    for (int tile = tileBegin; tile < tileEnd; ++tile) {
      const int n0 = tile * kColTile;
      const int cols = std::min(kColTile, job.N - n0);
      for (int r = r0; r < r1; r += kRowTile) {
        const float *xt = r == job.tailRow && job.paddedTail
                              ? job.paddedTail
                              : job.x + static_cast<size_t>(r) * job.K;
        multiplyTile(xt, job.K, job.packed + n0, job.ldw, acc);
        const int valid = std::min(kRowTile, job.rows - r);
        for (int i = 0; i < valid; ++i) {
          const size_t base = static_cast<size_t>(r + i) * job.N + n0;
          for (int j = 0; j < cols; ++j) {
            float v = acc[i][j];
            if (job.bias)
              v += job.bias[n0 + j];
            if (job.residual)
              v += job.residual[base + j];
            job.y[base + j] = v;
          }
        }
      }
    }
  }
}

} // namespace

PackedLinear::PackedLinear(const std::vector<float> &weight, int outFeatures, int inFeatures,
                           std::vector<float> bias)
    : in_(inFeatures), out_(outFeatures),
      paddedOut_((outFeatures + kColTile - 1) / kColTile * kColTile), bias_(std::move(bias)) {
  packed_.assign(static_cast<size_t>(in_) * paddedOut_, 0.0f);
  for (int n = 0; n < out_; ++n)
    for (int k = 0; k < in_; ++k)
      packed_[static_cast<size_t>(k) * paddedOut_ + n] = weight[static_cast<size_t>(n) * in_ + k];
}

void PackedLinear::run(const float *x, int rows, const float *residual, float *y,
                       int maxThreads) const {
  if (rows <= 0)
    return;
  // Rows past a multiple of the row tile read from a zero-padded copy, so
  // every row goes through the same full-tile code.
  std::vector<float> tail;
  int tailRow = rows / kRowTile * kRowTile;
  if (tailRow < rows) {
    tail.assign(static_cast<size_t>(kRowTile) * in_, 0.0f);
    std::memcpy(tail.data(), x + static_cast<size_t>(tailRow) * in_,
                sizeof(float) * static_cast<size_t>(rows - tailRow) * in_);
  }
  TileJob job{x,   tail.empty() ? nullptr : tail.data(),
              tailRow, rows, in_, out_, paddedOut_, packed_.data(),
              bias_.empty() ? nullptr : bias_.data(), residual, y};
  const int tiles = paddedOut_ / kColTile;
  double work = static_cast<double>(rows) * in_ * out_;
  if (maxThreads < 2 || work < kThreadingThreshold || tiles < 2) {
    runColumnTiles(job, 0, tiles);
    return;
  }
  // Two halves of the columns; the caller's thread takes the second.
  const int split = tiles / 2;
  std::thread helper([&job, split] { runColumnTiles(job, 0, split); });
  runColumnTiles(job, split, tiles);
  helper.join();
}

} // namespace qtc::rt::host
