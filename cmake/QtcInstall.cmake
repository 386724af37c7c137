# Install rules of the compiler (the runtime's are runtime/cmake/RuntimeInstall.cmake):
#
#   component compiler: libqtcjit.so.<soversion> and its .so link, qtcCompilerTargets.cmake,
#                       qtc, qtc-opt, qtc-translate, qtc-kernelgen
#   component dev:      the JIT API headers
#
# The CMake package's Compiler component ships with the compiler, so that it
# is there exactly when libqtcjit is (qtcConfig.cmake, in dev, looks for it).
# find_package(qtc CONFIG COMPONENTS Compiler) then gives qtc::jit.
include(GNUInstallDirs)
set(QTC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/qtc) # as runtime/cmake/RuntimeInstall.cmake

# Installed binaries find MLIR/LLVM where the build found them.
set_target_properties(qtc_jit PROPERTIES INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
target_include_directories(qtc_jit INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

install(TARGETS qtc_jit EXPORT qtcCompilerTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT compiler)
install(EXPORT qtcCompilerTargets NAMESPACE qtc:: DESTINATION ${QTC_INSTALL_CMAKEDIR}
  COMPONENT compiler)
# Jit.h needs the runtime's headers only; Compile.h and the rest of
# include/qtc need MLIR and stay in the source tree.
install(FILES ${PROJECT_SOURCE_DIR}/include/qtc/Pipeline/Jit.h
  ${PROJECT_SOURCE_DIR}/include/qtc/Pipeline/qtc_compiler.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qtc/Pipeline COMPONENT dev)

foreach(tool qtc qtc-opt qtc-translate qtc-kernelgen)
  if(TARGET ${tool})
    set_target_properties(${tool} PROPERTIES INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT compiler)
  endif()
endforeach()
