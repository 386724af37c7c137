//===- KernelBuilder.cpp - IR building blocks shared by kernel generators -===//

#include "KernelBuilder.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {

MemRefType KernelBuilder::buffer(Type elem, int64_t extent) {
  return MemRefType::get({extent}, elem);
}

MemRefType KernelBuilder::workgroupBuffer(Type elem, int64_t extent) {
  auto space = gpu::AddressSpaceAttr::get(b.getContext(),
                                          gpu::AddressSpace::Workgroup);
  return MemRefType::get({extent}, elem, MemRefLayoutAttrInterface(), space);
}

Value KernelBuilder::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

Value KernelBuilder::constI32(int64_t v) {
  return arith::ConstantOp::create(b, b.getI32IntegerAttr(v));
}

Value KernelBuilder::constF32(double v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
}

Value KernelBuilder::constF16(double v) {
  return arith::ConstantOp::create(b, b.getFloatAttr(f16(), v));
}

Value KernelBuilder::splat(VectorType type, Attribute scalar) {
  return arith::ConstantOp::create(
      b, DenseElementsAttr::get(type, ArrayRef<Attribute>(scalar)));
}

Value KernelBuilder::splatI32(int64_t n, int64_t v) {
  return splat(vec(n, i32()), b.getI32IntegerAttr(static_cast<int32_t>(v)));
}

Value KernelBuilder::splatF16(int64_t n, double v) {
  return splat(vec(n, f16()), b.getFloatAttr(f16(), v));
}

Value KernelBuilder::zeros(Type type) {
  return arith::ConstantOp::create(b, cast<TypedAttr>(b.getZeroAttr(type)));
}

Value KernelBuilder::add(Value a, Value c) { return arith::AddIOp::create(b, a, c); }
Value KernelBuilder::add(Value a, int64_t c) {
  return c == 0 ? a : add(a, index(c));
}
Value KernelBuilder::sub(Value a, Value c) { return arith::SubIOp::create(b, a, c); }
Value KernelBuilder::mul(Value a, int64_t c) {
  return c == 1 ? a : mul(a, index(c));
}
Value KernelBuilder::mul(Value a, Value c) { return arith::MulIOp::create(b, a, c); }
Value KernelBuilder::div(Value a, int64_t c) {
  return c == 1 ? a : arith::DivUIOp::create(b, a, index(c)).getResult();
}
Value KernelBuilder::rem(Value a, int64_t c) {
  return arith::RemUIOp::create(b, a, index(c));
}
Value KernelBuilder::min(Value a, Value c) { return arith::MinUIOp::create(b, a, c); }
Value KernelBuilder::min(Value a, int64_t c) { return min(a, index(c)); }
Value KernelBuilder::ult(Value a, Value c) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, a, c);
}
Value KernelBuilder::ult(Value a, int64_t c) { return ult(a, index(c)); }

Value KernelBuilder::toIndex(Value i32Value) {
  // Sizes are non-negative int32: zero-extension is exact and cheaper.
  return arith::IndexCastUIOp::create(b, b.getIndexType(), i32Value);
}

Value KernelBuilder::toI32(Value indexValue) {
  return arith::IndexCastUIOp::create(b, i32(), indexValue);
}

Value KernelBuilder::threadIdX() { return gpu::ThreadIdOp::create(b, gpu::Dimension::x); }
Value KernelBuilder::blockIdX() { return gpu::BlockIdOp::create(b, gpu::Dimension::x); }
Value KernelBuilder::blockIdY() { return gpu::BlockIdOp::create(b, gpu::Dimension::y); }
Value KernelBuilder::laneId() {
  return gpu::LaneIdOp::create(b, b.getIndexAttr(32));
}

Value KernelBuilder::load(Value memref, Value idx) {
  return memref::LoadOp::create(b, memref, ValueRange{idx});
}

void KernelBuilder::store(Value value, Value memref, Value idx) {
  memref::StoreOp::create(b, value, memref, ValueRange{idx});
}

Value KernelBuilder::loadHalf8(Value v4Buffer, Value index8) {
  Value words = load(v4Buffer, index8);
  return vector::BitCastOp::create(b, vec(8, f16()), words);
}

void KernelBuilder::storeHalf8(Value halves, Value v4Buffer, Value index8) {
  Value words = vector::BitCastOp::create(b, v4i32(), halves);
  store(words, v4Buffer, index8);
}

Value KernelBuilder::loadE4M3x8(Value v2Buffer, Value index8) {
  return e4m3ToF16(load(v2Buffer, index8));
}

Type KernelBuilder::e4m3Packed(int64_t bytes) {
  return bytes == 8 ? Type(v2i32()) : Type(b.getIntegerType(8 * bytes));
}

// Inline PTX without side effects, one result: LLVM may schedule, merge or
// drop it like any arithmetic. (The conversions have NVVM intrinsics too;
// the PTX spells out the operand order, which is what the checks verify.)
static Value purePtx(ImplicitLocOpBuilder &b, Type result, StringRef ptx,
                     StringRef constraints, ValueRange operands) {
  auto op = LLVM::InlineAsmOp::create(
      b, result, operands, ptx, constraints, /*has_side_effects=*/false,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr(), ArrayAttr());
  return op.getRes();
}

Value KernelBuilder::packE4M3x2(Value lo, Value hi) {
  // The first source becomes the upper byte.
  return purePtx(b, b.getI16Type(), "cvt.rn.satfinite.e4m3x2.f32 $0, $2, $1;",
                 "=h,f,f", ValueRange{lo, hi});
}

Value KernelBuilder::cvtRniSatS8(Value x) {
  return purePtx(b, i32(), "cvt.rni.sat.s8.f32 $0, $1;", "=r,f", ValueRange{x});
}

Value KernelBuilder::cvtRniSatU8(Value x) {
  return purePtx(b, i32(), "cvt.rni.sat.u8.f32 $0, $1;", "=r,f", ValueRange{x});
}

Value KernelBuilder::mulRn(Value a, Value c) {
  return purePtx(b, f32(), "mul.rn.f32 $0, $1, $2;", "=f,f,f", ValueRange{a, c});
}

Value KernelBuilder::addRn(Value a, Value c) {
  return purePtx(b, f32(), "add.rn.f32 $0, $1, $2;", "=f,f,f", ValueRange{a, c});
}

// cvt.rn.f16x2.e4m3x2 turns the e4m3 bytes of a 16-bit register into
// f16x2, the low byte into the low half; exact.
static Value e4m3PairToF16x2(ImplicitLocOpBuilder &b, Value pair) {
  return purePtx(b, b.getI32Type(), "cvt.rn.f16x2.e4m3x2 $0, $1;", "=r,h",
                 ValueRange{pair});
}

// The four e4m3 bytes of an i32 as two f16x2 (bytes 0-1, then 2-3). Taking
// the word whole keeps loads 32-bit: ptxas gives 16-bit halves of a vector
// load registers of their own.
static std::pair<Value, Value> e4m3WordToF16x2(ImplicitLocOpBuilder &b,
                                              Value word) {
  Type i32 = b.getI32Type();
  Type both = LLVM::LLVMStructType::getLiteral(b.getContext(), {i32, i32});
  Value out = purePtx(b, both,
                      "{\n.reg .b16 lo, hi;\nmov.b32 {lo, hi}, $2;\n"
                      "cvt.rn.f16x2.e4m3x2 $0, lo;\n"
                      "cvt.rn.f16x2.e4m3x2 $1, hi;\n}",
                      "=r,=r,r", ValueRange{word});
  return {LLVM::ExtractValueOp::create(b, out, ArrayRef<int64_t>{0}),
          LLVM::ExtractValueOp::create(b, out, ArrayRef<int64_t>{1})};
}

Value KernelBuilder::e4m3ToF16(Value packed) {
  Type type = packed.getType();
  if (type.isInteger(8) || type.isInteger(16)) {
    // A lone byte gets a zero byte above it; its f16 is the low half.
    bool single = type.isInteger(8);
    if (single)
      packed = arith::ExtUIOp::create(b, b.getI16Type(), packed);
    Value word = vector::BroadcastOp::create(b, vec(1, i32()),
                                             e4m3PairToF16x2(b, packed));
    Value halves = vector::BitCastOp::create(b, vec(2, f16()), word);
    return single ? shuffle(halves, {0}) : halves;
  }
  // i32 or vector<N x i32>.
  SmallVector<Value> words;
  auto vecType = dyn_cast<VectorType>(type);
  for (int64_t i = 0; i < (vecType ? vecType.getNumElements() : 1); ++i) {
    auto [lo, hi] = e4m3WordToF16x2(b, vecType ? extract(packed, i) : packed);
    words.append({lo, hi});
  }
  Value all = vector::FromElementsOp::create(
      b, vec(static_cast<int64_t>(words.size()), i32()), words);
  return vector::BitCastOp::create(
      b, vec(2 * static_cast<int64_t>(words.size()), f16()), all);
}

static Type withElement(Type type, Type elem) {
  if (auto v = dyn_cast<VectorType>(type))
    return VectorType::get(v.getShape(), elem);
  return elem;
}

Value KernelBuilder::extF32(Value v) {
  return arith::ExtFOp::create(b, withElement(v.getType(), f32()), v);
}

Value KernelBuilder::truncF16(Value v) {
  return arith::TruncFOp::create(b, withElement(v.getType(), f16()), v);
}

Value KernelBuilder::addF(Value a, Value c) {
  return arith::AddFOp::create(b, a, c, arith::FastMathFlags::contract);
}
Value KernelBuilder::subF(Value a, Value c) {
  return arith::SubFOp::create(b, a, c, arith::FastMathFlags::contract);
}
Value KernelBuilder::mulF(Value a, Value c) {
  return arith::MulFOp::create(b, a, c, arith::FastMathFlags::contract);
}
Value KernelBuilder::maxF(Value a, Value c) {
  return arith::MaximumFOp::create(b, a, c);
}
Value KernelBuilder::fma(Value a, Value c, Value d) {
  // mulf + addf with `contract` become one fma.rn (also f16x2); math.fma on
  // f16 would go through libdevice in f32.
  return addF(mulF(a, c), d);
}

Value KernelBuilder::nvvmUnary(StringRef intrinsic, Value x) {
  auto call = [&](Value scalar) -> Value {
    return LLVM::CallIntrinsicOp::create(b, f32(), b.getStringAttr(intrinsic),
                                         ValueRange{scalar})
        .getResult(0);
  };
  auto vecType = dyn_cast<VectorType>(x.getType());
  if (!vecType)
    return call(x);
  Value result = zeros(vecType);
  for (int64_t i = 0; i < vecType.getNumElements(); ++i)
    result = vector::InsertOp::create(b, call(extract(x, i)), result, i);
  return result;
}

Value KernelBuilder::exp2Approx(Value x) {
  return nvvmUnary("llvm.nvvm.ex2.approx.f32", x);
}

Value KernelBuilder::rsqrtApprox(Value x) {
  return nvvmUnary("llvm.nvvm.rsqrt.approx.f", x);
}

Value KernelBuilder::reduceAngle(Value x) {
  // x - k * 2pi with k = rint(x / 2pi); 2pi = 6.28125 + c2, where k * 6.28125
  // is exact for |k| < 2^16 (angles up to ~4e5).
  const double twoPi = 6.283185307179586476925286766559;
  const double c1 = 6.28125, c2 = twoPi - c1;
  Value k = nvvmUnary("llvm.roundeven.f32", mulF(x, constF32(1.0 / twoPi)));
  Value negK = arith::NegFOp::create(b, k);
  Value r = arith::AddFOp::create(b, arith::MulFOp::create(b, negK, constF32(c1)), x);
  return fma(negK, constF32(c2), r);
}

Value KernelBuilder::sinReduced(Value x) {
  return nvvmUnary("llvm.nvvm.sin.approx.f", reduceAngle(x));
}

Value KernelBuilder::cosReduced(Value x) {
  return nvvmUnary("llvm.nvvm.cos.approx.f", reduceAngle(x));
}

Value KernelBuilder::select(Value cond, Value a, Value c) {
  return arith::SelectOp::create(b, cond, a, c);
}

Value KernelBuilder::shuffle(Value v, ArrayRef<int64_t> mask) {
  return vector::ShuffleOp::create(b, v, v, mask);
}

Value KernelBuilder::extract(Value v, int64_t pos) {
  return vector::ExtractOp::create(b, v, ArrayRef<int64_t>{pos});
}

Value KernelBuilder::reduceAdd(Value v) {
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, v);
}

Value KernelBuilder::warpSum(Value v) {
  for (int offset = 16; offset > 0; offset /= 2) {
    auto shfl = gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR);
    v = arith::AddFOp::create(b, v, shfl.getShuffleResult());
  }
  return v;
}

Value KernelBuilder::warpMax(Value v) {
  for (int offset = 16; offset > 0; offset /= 2) {
    auto shfl = gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR);
    v = maxF(v, shfl.getShuffleResult());
  }
  return v;
}

Value KernelBuilder::shuffleIdx(Value v, Value lane) {
  auto shfl = gpu::ShuffleOp::create(b, v, toI32(lane), constI32(32),
                                     gpu::ShuffleMode::IDX);
  return shfl.getShuffleResult();
}

// The warp results through `scratch`, combined by every thread itself: no
// second barrier.
static Value blockReduce(KernelBuilder &kb, Value warpResult, Value scratch, int numWarps,
                         function_ref<Value(Value, Value)> combine) {
  if (numWarps == 1)
    return warpResult;
  Value tid = kb.threadIdX();
  Value lane = kb.rem(tid, 32);
  Value warp = kb.div(tid, 32);
  kb.ifThen(arith::CmpIOp::create(kb.b, arith::CmpIPredicate::eq, lane, kb.index(0)),
            [&] { kb.store(warpResult, scratch, warp); });
  kb.barrier();
  Value total = kb.load(scratch, kb.index(0));
  for (int w = 1; w < numWarps; ++w)
    total = combine(total, kb.load(scratch, kb.index(w)));
  return total;
}

Value KernelBuilder::blockSum(Value v, Value scratch, int numWarps) {
  return blockReduce(*this, warpSum(v), scratch, numWarps,
                     [&](Value a, Value c) { return arith::AddFOp::create(b, a, c).getResult(); });
}

Value KernelBuilder::blockMax(Value v, Value scratch, int numWarps) {
  return blockReduce(*this, warpMax(v), scratch, numWarps,
                     [&](Value a, Value c) { return maxF(a, c); });
}

void KernelBuilder::barrier() { gpu::BarrierOp::create(b); }

// nvvm.griddepcontrol lowers to an intrinsic that LLVM models as touching no
// memory, so loads could be scheduled across it; the memory clobber of an
// inline asm statement forbids that.
static void memoryOrderedPtx(ImplicitLocOpBuilder &b, StringRef ptx) {
  LLVM::InlineAsmOp::create(b, TypeRange{}, ValueRange{}, ptx, "~{memory}",
                            /*has_side_effects=*/true, /*is_align_stack=*/false,
                            LLVM::tailcallkind::TailCallKind::None,
                            LLVM::AsmDialectAttr(), ArrayAttr());
}

void KernelBuilder::gridDependencyWait() { memoryOrderedPtx(b, "griddepcontrol.wait;"); }

void KernelBuilder::launchDependents() {
  memoryOrderedPtx(b, "griddepcontrol.launch_dependents;");
}

int smVersion(StringRef chip) {
  int version = 0;
  if (!chip.consume_front("sm_") || chip.consumeInteger(10, version))
    return 0;
  return version;
}

void KernelBuilder::forLoop(Value lb, Value ub, Value step,
                            llvm::function_ref<void(Value)> body) {
  auto loop = scf::ForOp::create(b, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}

void KernelBuilder::stridedLoop(Value start, int64_t count, int64_t stride,
                                llvm::function_ref<void(Value)> body) {
  if (count <= stride) {
    ifThen(ult(start, count), [&] { body(start); });
    return;
  }
  forLoop(start, index(count), index(stride), body);
}

void KernelBuilder::ifThen(Value cond, llvm::function_ref<void()> then) {
  auto op = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op.thenBlock()->getTerminator());
  then();
}

LogicalResult checkRowWidth(ImplicitLocOpBuilder &b, StringRef what,
                            int64_t width) {
  if (width <= 0 || width % 8 != 0)
    return emitError(b.getLoc()) << what << " kernel: width must be a "
                                 << "positive multiple of 8, got " << width;
  return success();
}

int rowBlockSize(int64_t vectors) {
  int64_t threads = (vectors + 31) / 32 * 32;
  return static_cast<int>(std::clamp<int64_t>(threads, 32, 256));
}

KernelShell createKernelShell(ImplicitLocOpBuilder &b, StringRef name,
                              ArrayRef<KernelParam> params,
                              ArrayRef<Type> workgroupBuffers, int blockX) {
  MLIRContext *ctx = b.getContext();
  KernelShell shell;
  shell.module = ModuleOp::create(b);
  shell.module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        b.getUnitAttr());
  b.setInsertionPointToEnd(shell.module.getBody());
  auto gpuModule = gpu::GPUModuleOp::create(b, name);
  b.setInsertionPointToStart(gpuModule.getBody());

  SmallVector<Type> types;
  for (const KernelParam &p : params)
    types.push_back(p.type);
  auto func = gpu::GPUFuncOp::create(b, name, b.getFunctionType(types, {}),
                                     workgroupBuffers);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(DenseI32ArrayAttr::get(ctx, {blockX, 1, 1}));
  // Workgroup buffers are read and written with 16-byte vectors.
  for (unsigned i = 0; i < workgroupBuffers.size(); ++i)
    func.setWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                                     b.getI64IntegerAttr(16));
  for (auto [i, p] : llvm::enumerate(params)) {
    if (!p.readOnly)
      continue;
    func.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(), b.getUnitAttr());
    func.setArgAttr(i, LLVM::LLVMDialect::getReadonlyAttrName(), b.getUnitAttr());
  }
  shell.func = func;
  b.setInsertionPointToStart(&func.getBody().front());
  return shell;
}

void finishKernel(ImplicitLocOpBuilder &b) { gpu::ReturnOp::create(b); }

} // namespace qtc::codegen
