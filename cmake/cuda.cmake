# The CUDA backend (included by the top-level CMakeLists.txt when JETLM_CUDA=ON).
#
# Device code is C++14 and needs nothing newer than CUDA 10.2 (the Jetson
# Nano's toolkit); newer features are guarded by the toolkit version in the
# sources. By default every GPU architecture the installed nvcc supports from
# sm_53 (Maxwell, Jetson Nano) to sm_90 (Hopper) is built; pass
# -DCMAKE_CUDA_ARCHITECTURES=90 (or CUDAARCHS) for a faster single-target build.

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(JETLM_NVCC nvcc HINTS /usr/local/cuda/bin ENV CUDA_HOME PATH_SUFFIXES bin)
    if(JETLM_NVCC)
      set(CMAKE_CUDA_COMPILER ${JETLM_NVCC})
    endif()
  endif()
  set(_jetlm_archs "")
  if(CMAKE_CUDA_COMPILER)
    execute_process(COMMAND ${CMAKE_CUDA_COMPILER} --list-gpu-arch
                    OUTPUT_VARIABLE _jetlm_list RESULT_VARIABLE _jetlm_rc ERROR_QUIET)
    if(_jetlm_rc EQUAL 0)
      string(REGEX MATCHALL "compute_[0-9]+" _jetlm_list "${_jetlm_list}")
      foreach(_a ${_jetlm_list})
        string(REPLACE "compute_" "" _a "${_a}")
        if(_a GREATER_EQUAL 53 AND _a LESS_EQUAL 90)
          list(APPEND _jetlm_archs ${_a})
        endif()
      endforeach()
    endif()
  endif()
  if(NOT _jetlm_archs)
    # nvcc without --list-gpu-arch (CUDA 10.x): the architectures it supports from 53 up.
    set(_jetlm_archs 53 60 61 62 70 72 75)
  endif()
  list(REMOVE_DUPLICATES _jetlm_archs)
  set(CMAKE_CUDA_ARCHITECTURES ${_jetlm_archs} CACHE STRING "CUDA architectures to build for")
  message(STATUS "jetlm: CUDA architectures ${CMAKE_CUDA_ARCHITECTURES}")
endif()

enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

# jetlm_lib inherited the host warning/sanitizer flags (add_compile_options) before CUDA was
# enabled; nvcc rejects them, so keep them for C++ and pass the harmless ones to nvcc's host compiler.
get_target_property(_jetlm_opts jetlm_lib COMPILE_OPTIONS)
if(_jetlm_opts)
  set(_jetlm_wrapped "")
  foreach(_o ${_jetlm_opts})
    list(APPEND _jetlm_wrapped "$<$<COMPILE_LANGUAGE:CXX>:${_o}>")
    if(NOT _o MATCHES "^-Werror|^-fsanitize|^-fno-sanitize|^-march")
      list(APPEND _jetlm_wrapped "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=${_o}>")
    endif()
  endforeach()
  set_target_properties(jetlm_lib PROPERTIES COMPILE_OPTIONS "${_jetlm_wrapped}")
endif()

file(GLOB JETLM_CUDA_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/src/backends/cuda/*.cu
     ${CMAKE_SOURCE_DIR}/src/backends/cuda/*.cpp)
target_sources(jetlm_lib PRIVATE ${JETLM_CUDA_SOURCES})
# jetlm_lib was created before CUDA was enabled, so its architectures are not initialized from the variable.
set_target_properties(jetlm_lib PROPERTIES
  CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}"
  CUDA_STANDARD 14
  CUDA_STANDARD_REQUIRED ON
  CUDA_EXTENSIONS OFF)
target_compile_definitions(jetlm_lib PUBLIC JETLM_HAVE_CUDA)
# Development only: per-block kernel timestamps (src/backends/cuda/trace.cuh, bench/profile/trace_summary.py).
option(JETLM_CUDA_TRACE "Record a kernel timeline (JETLM_CUDA_TRACE_OUT=FILE)" OFF)
if(JETLM_CUDA_TRACE)
  target_compile_definitions(jetlm_lib PRIVATE JETLM_CUDA_TRACE)
endif()
target_link_libraries(jetlm_lib PUBLIC CUDA::cudart_static CUDA::cublas)

