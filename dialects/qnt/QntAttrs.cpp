//===- QntAttrs.cpp - qnt attribute verifiers and format facts ------------===//

#include "dialects/qnt/QntAttrs.h"

#include "dialects/qnt/QntDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <tuple>

using namespace mlir;
using namespace qtc::qnt;

#include "dialects/qnt/QntEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/qnt/QntAttrs.cpp.inc"

void QntDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/qnt/QntAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Formats
//===----------------------------------------------------------------------===//

unsigned qtc::qnt::getFormatBits(Format format) {
  switch (format) {
  case Format::i2: case Format::u2: case Format::lut2: return 2;
  case Format::i3: case Format::u3: case Format::lut3: return 3;
  case Format::i4: case Format::u4: case Format::lut4:
  case Format::f4e2m1: case Format::nf4: return 4;
  case Format::i5: case Format::u5: case Format::lut5: return 5;
  case Format::i6: case Format::u6: case Format::lut6: return 6;
  case Format::i7: case Format::u7: case Format::lut7: return 7;
  case Format::i8: case Format::u8: case Format::lut8:
  case Format::f8e4m3: case Format::f8e5m2: return 8;
  }
  llvm_unreachable("unknown qnt format");
}

bool qtc::qnt::isSignedIntegerFormat(Format format) {
  return format >= Format::i2 && format <= Format::i8;
}

bool qtc::qnt::isIntegerFormat(Format format) {
  return isSignedIntegerFormat(format) ||
         (format >= Format::u2 && format <= Format::u8);
}

bool qtc::qnt::isTableFormat(Format format) {
  return format == Format::nf4 ||
         (format >= Format::lut2 && format <= Format::lut8);
}

//===----------------------------------------------------------------------===//
// EncodingAttr
//===----------------------------------------------------------------------===//

unsigned EncodingAttr::getBits() const { return getFormatBits(getFormat()); }

LogicalResult
EncodingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     Format format, Granularity granularity, int64_t groupSize,
                     int64_t axis, bool symmetric, Type scaleType,
                     Type zeroType, DenseF32ArrayAttr lut) {
  if (granularity == Granularity::per_group && groupSize <= 0)
    return emitError() << "per_group encoding needs group_size > 0 (got "
                       << groupSize << ")";
  if (granularity != Granularity::per_group && groupSize != 0)
    return emitError() << "group_size is only meaningful with per_group "
                          "granularity (got "
                       << stringifyGranularity(granularity) << ")";
  if (axis < 0)
    return emitError() << "encoding axis must be non-negative (got " << axis
                       << ")";
  if (!isa<FloatType>(scaleType))
    return emitError() << "scale_type must be a float type (got " << scaleType
                       << ")";

  if (!symmetric && !isIntegerFormat(format))
    return emitError() << stringifyFormat(format)
                       << " values have no zero point: the encoding must be "
                          "symmetric";
  if (!symmetric && !zeroType)
    return emitError() << "an asymmetric encoding needs zero_type";
  if (symmetric && zeroType)
    return emitError() << "a symmetric encoding has no zero point: drop "
                          "zero_type";
  if (zeroType && !isa<FloatType, IntegerType>(zeroType))
    return emitError() << "zero_type must be an integer or float type (got "
                       << zeroType << ")";

  bool takesTable = isTableFormat(format) && format != Format::nf4;
  if (!takesTable && lut)
    return emitError() << "only lut2..lut8 encodings take a lut table (format "
                          "is "
                       << stringifyFormat(format) << ")";
  if (takesTable) {
    int64_t entries = int64_t{1} << getFormatBits(format);
    int64_t given = lut ? lut.size() : 0;
    if (given != entries)
      return emitError() << stringifyFormat(format)
                         << " encoding needs a lut table of " << entries
                         << " values (got " << given << ")";
    if (llvm::any_of(lut.asArrayRef(),
                     [](float value) { return !std::isfinite(value); }))
      return emitError() << "lut values must be finite";
  }
  return success();
}

LogicalResult
EncodingAttr::verifyForShape(function_ref<InFlightDiagnostic()> emitError,
                             ArrayRef<int64_t> shape) const {
  if (getGranularity() == Granularity::per_tensor)
    return success();
  int64_t axis = getAxis();
  if (axis >= static_cast<int64_t>(shape.size()))
    return emitError() << "encoding axis (" << axis
                       << ") is out of range for rank " << shape.size();
  int64_t size = shape[axis];
  if (getGranularity() == Granularity::per_group &&
      !ShapedType::isDynamic(size) && size % getGroupSize() != 0)
    return emitError() << "group_size (" << getGroupSize()
                       << ") must divide dimension " << axis << " (size "
                       << size << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// KvSchemeAttr
//===----------------------------------------------------------------------===//

/// Keys and values are [tokens, channels] per layer; `axis` says which of the
/// two a scale spans, and each granularity fixes it.
static LogicalResult
verifyKvEncoding(function_ref<InFlightDiagnostic()> emitError, StringRef role,
                 EncodingAttr encoding) {
  Granularity granularity = encoding.getGranularity();
  if (granularity == Granularity::per_tensor)
    return success();
  int64_t expectedAxis = granularity == Granularity::per_channel ? 0 : 1;
  if (encoding.getAxis() == expectedAxis)
    return success();
  return emitError() << role << " encoding: "
                     << stringifyGranularity(granularity)
                     << (expectedAxis == 0
                             ? " scales span the tokens of a block"
                             : " scales span the channels of a token")
                     << ", so axis must be " << expectedAxis << " (got "
                     << encoding.getAxis() << ")";
}

LogicalResult
KvSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     EncodingAttr key, EncodingAttr value, int64_t blockSize,
                     int64_t residualWindow, int64_t sinkTokens,
                     DenseF32ArrayAttr keyScales, DenseF32ArrayAttr valueScales) {
  if (blockSize <= 0)
    return emitError() << "kv_scheme block_size must be positive (got "
                       << blockSize << ")";
  if (residualWindow < 0 || sinkTokens < 0)
    return emitError() << "kv_scheme residual_window and sink_tokens must be "
                          "non-negative";
  if (failed(verifyKvEncoding(emitError, "key", key)) ||
      failed(verifyKvEncoding(emitError, "value", value)))
    return failure();
  for (auto [role, encoding, scales] :
       {std::tuple{"key", key, keyScales}, std::tuple{"value", value, valueScales}}) {
    if (!scales)
      continue;
    if (encoding.getFormat() != Format::f8e4m3 ||
        encoding.getGranularity() != Granularity::per_tensor)
      return emitError() << "kv_scheme " << role
                         << "_scales need an f8e4m3 per_tensor " << role << " encoding";
    if (scales.empty())
      return emitError() << "kv_scheme " << role << "_scales must not be empty";
    for (float s : scales.asArrayRef())
      if (!(s > 0.0f) || !std::isfinite(s))
        return emitError() << "kv_scheme " << role << "_scales must be positive and finite (got "
                           << s << ")";
  }
  return success();
}
