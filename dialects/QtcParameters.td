//===- QtcParameters.td - Attribute parameter kinds of qtc's dialects ----===//
//
// MLIR's FieldParser has no float or bool specialisation, so these parameter
// kinds bring their own parser and printer. Floats print as the shortest
// decimal that parses back to the same f32, so attributes round-trip exactly.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_DIALECTS_QTCPARAMETERS_TD
#define QTC_DIALECTS_QTCPARAMETERS_TD

include "mlir/IR/AttrTypeBase.td"

// An f32 value, written as a float literal: `epsilon = 1.000000e-05`.
// Stored as an IEEE single APFloat because llvm::hash_value has no float
// overload; `default` is a float expression such as "1.0f".
class QtcF32Parameter<string desc, string default = "">
    : AttrOrTypeParameter<"::llvm::APFloat", desc> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = [{
    [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
      ::llvm::APFloat value(0.0f);
      if ($_parser.parseFloat(::llvm::APFloat::IEEEsingle(), value))
        return ::mlir::failure();
      return value;
    }()
  }];
  let printer = [{ $_printer.printFloat($_self) }];
  let defaultValue = !if(!empty(default), "", "::llvm::APFloat(" # default # ")");
}

// A boolean, written as the keyword `true` or `false`.
class QtcBoolParameter<string desc, string default = "">
    : AttrOrTypeParameter<"bool", desc> {
  let parser = [{
    [&]() -> ::mlir::FailureOr<bool> {
      if (::mlir::succeeded($_parser.parseOptionalKeyword("true")))
        return true;
      if (::mlir::succeeded($_parser.parseOptionalKeyword("false")))
        return false;
      return $_parser.emitError($_parser.getCurrentLocation(),
                                "expected 'true' or 'false'");
    }()
  }];
  let printer = [{ $_printer << ($_self ? "true" : "false") }];
  let defaultValue = default;
}

#endif // QTC_DIALECTS_QTCPARAMETERS_TD
