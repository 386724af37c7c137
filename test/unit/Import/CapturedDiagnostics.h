//===- CapturedDiagnostics.h - Diagnostics a test can assert on -*- C++ -*-===//

#ifndef QTC_TEST_UNIT_IMPORT_CAPTUREDDIAGNOSTICS_H
#define QTC_TEST_UNIT_IMPORT_CAPTUREDDIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace qtc::test {

/// Collects every diagnostic emitted on a context while it lives, as
/// "<location>: <message>" lines followed by their notes.
class CapturedDiagnostics {
public:
  explicit CapturedDiagnostics(mlir::MLIRContext &context)
      : handler(&context, [this](mlir::Diagnostic &diag) {
          record(diag);
          return mlir::success();
        }) {}

  const std::string &text() const { return captured; }
  bool contains(llvm::StringRef needle) const {
    return llvm::StringRef(captured).contains(needle);
  }

private:
  void record(mlir::Diagnostic &diag) {
    llvm::raw_string_ostream os(captured);
    os << diag.getLocation() << ": " << diag.str() << "\n";
    for (mlir::Diagnostic &note : diag.getNotes())
      os << "  note: " << note.str() << "\n";
  }

  std::string captured;
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace qtc::test

#endif // QTC_TEST_UNIT_IMPORT_CAPTUREDDIAGNOSTICS_H
