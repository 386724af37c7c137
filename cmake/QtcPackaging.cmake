# CPack: Debian packages per install component (cpack -G DEB in the build).
#
#   qtc-runtime   libqtcrt, the tokenizer plugin, qtc-run, the qtc Python package (no LLVM)
#   qtc-compiler  libqtcjit, the qtc tools, the CMake package's Compiler part (MLIR/LLVM 22)
#   qtc-dev       headers, the libqtcrt.so link, CMake package, qtc-runtime.pc
#
# Dependencies are named by hand rather than by dpkg-shlibdeps: libMLIR and
# libLLVM live in /usr/lib/llvm-22/lib, where shlibdeps finds no package
# information, and the headers' needs (flatbuffers) are not shared libraries.
set(CPACK_PACKAGE_NAME qtc)
set(CPACK_PACKAGE_VENDOR "qtc")
set(CPACK_PACKAGE_CONTACT "qtc maintainers <qtc@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "qtc: a compiler and runtime for quantized transformers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL runtime compiler dev)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME qtc-runtime)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
    "libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1, libsentencepiece0")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SUGGESTS "python3, python3-numpy")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "qtc runtime: loads and runs .qtc artifacts on the host or a CUDA GPU (libqtcrt, qtc-run)")

set(CPACK_DEBIAN_COMPILER_PACKAGE_NAME qtc-compiler)
set(CPACK_DEBIAN_COMPILER_PACKAGE_DEPENDS
    "qtc-runtime (= ${PROJECT_VERSION}), libmlir-22, libllvm22, libonnx1, libprotobuf32, libc6 (>= 2.34), libstdc++6 (>= 12)")
set(CPACK_COMPONENT_COMPILER_DESCRIPTION
    "qtc compiler: compiles ONNX and Hugging Face models to .qtc artifacts (qtc, libqtcjit)")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME qtc-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "qtc-runtime (= ${PROJECT_VERSION}), libflatbuffers-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS
    "qtc-compiler (= ${PROJECT_VERSION}), libmlir-22-dev, llvm-22-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "qtc development files: headers, CMake package (qtc::runtime, qtc::jit), qtc-runtime.pc")

include(CPack)
