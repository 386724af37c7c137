//===- KvPageCodegen.h - The int8 KV page as the kernels address it -*- C++ -*-===//
//
// The GPU side of runtime/include/qtc/rt/KvPage.h for int8 per-token pages:
// a layer's K or V cache is a byte buffer (memref of i8) of [block, kv_head]
// pages of KvPageLayout::pageBytes; a slot's codes are head_dim bytes at
// slot * head_dim, its f16 scale (and zero, asymmetric) at the layout's
// offsets. RopeKvAppend encodes a token with the page's rounding,
// attention decodes codes in registers. One place holds the offsets.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_CODEGEN_KVPAGECODEGEN_H
#define QTC_LIB_CODEGEN_KVPAGECODEGEN_H

#include "KernelBuilder.h"

#include "qtc/rt/KvPage.h"

namespace qtc::codegen {

struct KernelRequest;

// The page of a request's keys (`keys`) or values: int8, per token, no
// sinks (the kernels' int8 scheme).
rt::KvPageLayout int8KvPage(const KernelRequest &r, bool keys);

// The byte buffer type of an int8 KV cache parameter.
mlir::MemRefType kvPageBuffer(KernelBuilder &kb);

struct KvPageRef {
  rt::KvPageLayout layout;
  mlir::Value cache; // memref<?xi8>
  // Byte offset of page `pageIndex` (block * kv_heads + kv_head).
  mlir::Value page(KernelBuilder &kb, mlir::Value pageIndex) const;
  // Slot `slot`'s codes, scale and zero in the page at byte offset `page`.
  mlir::Value codes(KernelBuilder &kb, mlir::Value page, mlir::Value slot) const;
  mlir::Value scale(KernelBuilder &kb, mlir::Value page, mlir::Value slot) const;
  mlir::Value zero(KernelBuilder &kb, mlir::Value page, mlir::Value slot) const;
  bool symmetric() const { return layout.symmetric; }
};

// `n` (1, 2, 4, 8) bytes at byte offset `at` of an i8 buffer, `at` a
// multiple of n: one load (ld.global.v/.u of n bytes) as vector<n x i8>.
mlir::Value loadBytes(KernelBuilder &kb, mlir::Value buffer, mlir::Value at, int64_t n);
void storeBytes(KernelBuilder &kb, mlir::Value bytes, mlir::Value buffer, mlir::Value at);
// The f16 at byte offset `at` (even) widened to f32; an f16 stored there.
mlir::Value loadHalfAsF32(KernelBuilder &kb, mlir::Value buffer, mlir::Value at);
void storeHalf(KernelBuilder &kb, mlir::Value half, mlir::Value buffer, mlir::Value at);

// Codes (vector<n x i8>) read as KvPage.h's kvPageDecode reads them: (code
// - 128) * scale, or code * scale + zero (`zero` null: symmetric), as
// vector<n x f32>.
mlir::Value decodeInt8(KernelBuilder &kb, mlir::Value codes, mlir::Value scale,
                       mlir::Value zero);

// Encodes one token's values of a kv head into slot `slot` of page `page`
// as kvPageEncodeToken does: `x` (vector<n x f32>) are elements lane * n ..
// lane * n + n - 1 of the head_dim = 32 * n values, held by a full warp;
// the group's max |x| (or min and max) is reduced over the warp, f32
// division, round to nearest even. Lane 0 writes the scale (and zero).
void encodeInt8Token(KernelBuilder &kb, const KvPageRef &ref, mlir::Value page,
                     mlir::Value slot, mlir::Value lane, mlir::Value x);

} // namespace qtc::codegen

#endif // QTC_LIB_CODEGEN_KVPAGECODEGEN_H
