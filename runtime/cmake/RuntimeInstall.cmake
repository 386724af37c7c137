# Install rules of the runtime: they work in the runtime-alone build
# (cmake -S runtime) and in the superbuild, which adds the compiler's.
#
#   component runtime: libqtcrt.so.<soversion>, the tokenizer plugin, qtc-run
#   component dev:     headers, the libqtcrt.so link, CMake package, qtc-runtime.pc
#
# find_package(qtc CONFIG COMPONENTS Runtime) then gives qtc::runtime.
include(CMakePackageConfigHelpers)

set(QTC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/qtc)
# Where qtcConfig looks for MLIR when the Compiler component is asked for
# (the superbuild finds it at the same place, cmake/QtcMLIR.cmake).
set(QTC_MLIR_CMAKE_DIR_HINT /usr/lib/llvm-22/lib/cmake/mlir)

install(TARGETS qtc_runtime_c EXPORT qtcRuntimeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS qtc_sentencepiece
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/qtc COMPONENT runtime)
# Installed, qtc-run loads libsentencepiece from the system and the plugin
# from <libdir>/qtc; $ORIGIN stays for copies carried with their libraries.
install(TARGETS qtc-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

# Public headers: the runtime's, and the generated schema header Artifact.h
# includes (it needs flatbuffers' headers: libflatbuffers-dev).
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/qtc/rt
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qtc COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(FILES ${QTC_RT_GENERATED_INCLUDE_DIR}/qtc/rt/artifact_generated.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qtc/rt COMPONENT dev)

install(EXPORT qtcRuntimeTargets NAMESPACE qtc:: DESTINATION ${QTC_INSTALL_CMAKEDIR}
  COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/qtcConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/qtcConfig.cmake INSTALL_DESTINATION ${QTC_INSTALL_CMAKEDIR})
# The soname carries major.minor, so only the same minor version is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/qtcConfigVersion.cmake
  VERSION ${QTC_RUNTIME_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/qtcConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/qtcConfigVersion.cmake
  DESTINATION ${QTC_INSTALL_CMAKEDIR} COMPONENT dev)

# pkg-config for the C API; paths relative to the .pc file so the installed
# tree can be moved (or installed with --prefix elsewhere).
file(RELATIVE_PATH qtc_pc_to_prefix ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
set(QTC_PC_PREFIX "\${pcfiledir}/${qtc_pc_to_prefix}")
string(REGEX REPLACE "/$" "" QTC_PC_PREFIX "${QTC_PC_PREFIX}")
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/qtc-runtime.pc.in
  ${CMAKE_CURRENT_BINARY_DIR}/qtc-runtime.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/qtc-runtime.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# The Python package (ctypes over the C APIs; runtime/python/qtc/__init__.py
# says why). Debian's python3 reads /usr/lib/python3/dist-packages; for
# another prefix, put <prefix>/lib/python3/dist-packages on PYTHONPATH.
set(QTC_PYTHON_INSTALL_DIR lib/python3/dist-packages CACHE STRING
    "Where the qtc Python package is installed, relative to the prefix")
file(RELATIVE_PATH QTC_PY_LIBDIR_FROM_PACKAGE
     ${CMAKE_INSTALL_PREFIX}/${QTC_PYTHON_INSTALL_DIR}/qtc ${CMAKE_INSTALL_FULL_LIBDIR})
set(QTC_PY_RUNTIME_SONAME libqtcrt.so.${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(QTC_PY_JIT_SONAME libqtcjit.so.${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/python/qtc/_paths.py.in
               ${CMAKE_CURRENT_BINARY_DIR}/python/qtc/_paths.py @ONLY)
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/python/qtc
  DESTINATION ${QTC_PYTHON_INSTALL_DIR} COMPONENT runtime
  PATTERN "*.in" EXCLUDE PATTERN "__pycache__" EXCLUDE)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/python/qtc/_paths.py
  DESTINATION ${QTC_PYTHON_INSTALL_DIR}/qtc COMPONENT runtime)
