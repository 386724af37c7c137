//===- RowGatherGenerators.cpp - Embedding and GatherRows kernels ---------===//
//
// Both copy whole f16 rows selected by an index array, one block per output
// row, 16 bytes per thread and step.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"

using namespace mlir;

namespace qtc::codegen {
FailureOr<KernelIR> buildEmbeddingKernel(ImplicitLocOpBuilder &b,
                                         const KernelRequest &r,
                                         StringRef entry) {
  namespace abi = rt::abi::embedding;
  if (failed(checkRowWidth(b, "embedding", r.hidden)))
    return failure();
  if (r.vocab <= 0)
    return emitError(b.getLoc()) << "embedding kernel: vocab must be positive";
  KernelBuilder kb(b);
  int64_t vectors = r.hidden / 8;
  int threads = rowBlockSize(vectors);

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kTable] = {"table", kb.buffer(kb.v4i32(), r.vocab * vectors), true};
  params[abi::kIds] = {"ids", kb.buffer(kb.i32()), true};
  params[abi::kOut] = {"out", kb.buffer(kb.v4i32()), false};
  params[abi::kNumTokens] = {"num_tokens", kb.i32(), false};
  KernelShell shell = createKernelShell(b, entry, params, {}, threads);
  ValueRange args = shell.func.getArguments();

  Value row = kb.blockIdX();
  Value id = kb.toIndex(kb.load(args[abi::kIds], row));
  // Unsigned compare: negative ids are huge and fail too.
  Value valid = kb.ult(id, r.vocab);
  Value source = kb.mul(kb.min(id, r.vocab - 1), vectors);
  Value target = kb.mul(row, vectors);
  Value zero = kb.zeros(kb.v4i32());
  kb.stridedLoop(kb.threadIdX(), vectors, threads, [&](Value i) {
    Value v = kb.load(args[abi::kTable], kb.add(source, i));
    kb.store(kb.select(valid, v, zero), args[abi::kOut], kb.add(target, i));
  });
  return finishKernelIR(b, shell, threads);
}

FailureOr<KernelIR> buildGatherRowsKernel(ImplicitLocOpBuilder &b,
                                          const KernelRequest &r,
                                          StringRef entry) {
  namespace abi = rt::abi::gather_rows;
  if (failed(checkRowWidth(b, "gather_rows", r.hidden)))
    return failure();
  KernelBuilder kb(b);
  int64_t vectors = r.hidden / 8;
  int threads = rowBlockSize(vectors);

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kX] = {"x", kb.buffer(kb.v4i32()), true};
  params[abi::kRows] = {"rows", kb.buffer(kb.i32()), true};
  params[abi::kOut] = {"out", kb.buffer(kb.v4i32()), false};
  params[abi::kNumRows] = {"num_rows", kb.i32(), false};
  KernelShell shell = createKernelShell(b, entry, params, {}, threads);
  ValueRange args = shell.func.getArguments();

  // The backend checks the rows against the batch before the launch.
  Value row = kb.blockIdX();
  Value source = kb.mul(kb.toIndex(kb.load(args[abi::kRows], row)), vectors);
  Value target = kb.mul(row, vectors);
  kb.stridedLoop(kb.threadIdX(), vectors, threads, [&](Value i) {
    kb.store(kb.load(args[abi::kX], kb.add(source, i)), args[abi::kOut],
             kb.add(target, i));
  });
  return finishKernelIR(b, shell, threads);
}

} // namespace qtc::codegen
