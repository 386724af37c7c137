//===- TargetClones.h - Loops over every weight, built twice ----*- C++ -*-===//
//
// The quantizer loops that touch every weight of a model (6.7e9 for
// Llama-2-7B) are built for AVX2 and for any x86-64, and the loader picks
// one, as for the host backend's loops: the tools run on other machines than
// the one that built them. Their files build at -O3 (CMakeLists.txt) so GCC
// vectorizes them.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_QUANT_TARGETCLONES_H
#define QTC_LIB_QUANT_TARGETCLONES_H

#if defined(__x86_64__) && defined(__GNUC__)
#define QTC_QUANT_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define QTC_QUANT_TARGET_CLONES
#endif

#endif // QTC_LIB_QUANT_TARGETCLONES_H
