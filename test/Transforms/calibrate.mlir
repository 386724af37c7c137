// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// Text calibration data, tokenized with the model's tokenizer, then GPTQ.
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="data=%S/../Inputs/calibration/genesis-1.txt tokenizer=%qtc_src_root/test/models/kjv-llama-6m/tokenizer.model seq-len=64" \
// RUN:   --qtc-quantize-weights="smaller-groups" --qtc-gptq | FileCheck %s
// Token ids: a .bin of int32 ids.
// RUN: %python -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<64i', *[1] + list(range(100, 163))))" > %t.bin
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="data=%t.bin" --qtc-quantize-weights="smaller-groups" \
// RUN:   --qtc-gptq | FileCheck %s
// Bad data: ids outside the vocabulary, a ragged file, a missing file, text
// without a tokenizer, a sequence length past the model's positions.
// RUN: %python -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<3i', 5, 9999, 7))" > %t.bad.bin
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="data=%t.bad.bin" 2>&1 | FileCheck %s --check-prefix=BAD-ID
// RUN: printf 'abcdef' > %t.ragged.bin
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="data=%t.ragged.bin" 2>&1 | FileCheck %s --check-prefix=RAGGED
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="data=%t.missing.bin" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="data=%S/../Inputs/calibration/genesis-1.txt" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NO-TOKENIZER
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="seq-len=4096" 2>&1 | FileCheck %s --check-prefix=TOO-LONG

// The IR is unchanged by calibration; GPTQ then has statistics for every linear.
// CHECK-COUNT-42: qnt.quantized_weight {{.*}}method = "gptq", output_sqnr_db
// CHECK-NOT:   = qnt.quantize %

// BAD-ID: calibration tokens '{{.*}}.bad.bin': id 9999 at byte 4 is outside the vocabulary of 4096
// RAGGED: hold 6 bytes, not a whole number of int32 ids
// MISSING: cannot read calibration data '{{.*}}missing.bin'
// NO-TOKENIZER: needs the model's tokenizer.model
// TOO-LONG: seq-len in [2, 1024]
