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

# The Tegra X1 profile (src/backends/cuda/arch.h): device code takes the sm_53
# branches and the runtime behaves like a Jetson Nano (integrated, no host
# registration, JETLM_EMULATE_MEM_GB of memory), on whatever GPU runs it.
set(JETLM_CUDA_EMULATE "" CACHE STRING "Emulated device profile: empty (none) or tegra-x1")
if(JETLM_CUDA_EMULATE AND NOT JETLM_CUDA_EMULATE STREQUAL "tegra-x1")
  message(FATAL_ERROR "JETLM_CUDA_EMULATE=${JETLM_CUDA_EMULATE}: the known profile is tegra-x1")
endif()

enable_language(CUDA)
# The toolkit's libraries: FindCUDAToolkit from 3.17, else next to nvcc (CUDA 10.2 on JetPack 4.6
# lays out bin/, include/, lib64/ under /usr/local/cuda).
if(NOT JETLM_CMAKE_VERSION VERSION_LESS 3.17)
  find_package(CUDAToolkit REQUIRED)
  set(JETLM_CUDA_LIBS CUDA::cudart_static CUDA::cublas)
else()
  get_filename_component(_jetlm_cuda_root "${CMAKE_CUDA_COMPILER}" DIRECTORY)
  get_filename_component(_jetlm_cuda_root "${_jetlm_cuda_root}" DIRECTORY)
  set(_jetlm_cuda_libdirs ${_jetlm_cuda_root}/lib64 ${_jetlm_cuda_root}/lib ${CMAKE_CUDA_IMPLICIT_LINK_DIRECTORIES})
  find_library(JETLM_CUDART_STATIC cudart_static HINTS ${_jetlm_cuda_libdirs})
  find_library(JETLM_CUBLAS cublas HINTS ${_jetlm_cuda_libdirs})
  if(NOT JETLM_CUDART_STATIC OR NOT JETLM_CUBLAS)
    message(FATAL_ERROR "jetlm: cudart_static or cublas not found under ${_jetlm_cuda_libdirs}")
  endif()
  find_library(JETLM_LIBRT rt)
  set(JETLM_CUDA_LIBS ${JETLM_CUBLAS} ${JETLM_CUDART_STATIC} Threads::Threads ${CMAKE_DL_LIBS})
  if(JETLM_LIBRT)
    list(APPEND JETLM_CUDA_LIBS ${JETLM_LIBRT})
  endif()
  # Host .cpp files of the backend include cuda_runtime.h.
  target_include_directories(jetlm_lib PUBLIC ${_jetlm_cuda_root}/include)
endif()

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

file(GLOB JETLM_CUDA_SOURCES ${JETLM_GLOB_DEPENDS}
     ${CMAKE_SOURCE_DIR}/src/backends/cuda/*.cu
     ${CMAKE_SOURCE_DIR}/src/backends/cuda/*.cpp)
target_sources(jetlm_lib PRIVATE ${JETLM_CUDA_SOURCES})
# jetlm_lib was created before CUDA was enabled, so its architectures are not initialized from the variable.
# CUDA_ARCHITECTURES is 3.18; before, the same list as nvcc -gencode flags
# (N: SASS and PTX of N, N-real: SASS only, N-virtual: PTX only).
if(NOT JETLM_CMAKE_VERSION VERSION_LESS 3.18)
  set_target_properties(jetlm_lib PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}")
else()
  foreach(_a ${CMAKE_CUDA_ARCHITECTURES})
    string(REGEX MATCH "^[0-9]+" _n "${_a}")
    if(_a MATCHES "-real$")
      set(_code "sm_${_n}")
    elseif(_a MATCHES "-virtual$")
      set(_code "compute_${_n}")
    else()
      set(_code "[sm_${_n},compute_${_n}]")
    endif()
    target_compile_options(jetlm_lib PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:-gencode=arch=compute_${_n},code=${_code}>")
  endforeach()
endif()
set_target_properties(jetlm_lib PROPERTIES
  CUDA_STANDARD 14
  CUDA_STANDARD_REQUIRED ON
  CUDA_EXTENSIONS OFF)
target_compile_definitions(jetlm_lib PUBLIC JETLM_HAVE_CUDA)
# Development only: per-block kernel timestamps (src/backends/cuda/trace.cuh, bench/profile/trace_summary.py).
option(JETLM_CUDA_TRACE "Record a kernel timeline (JETLM_CUDA_TRACE_OUT=FILE)" OFF)
if(JETLM_CUDA_TRACE)
  target_compile_definitions(jetlm_lib PRIVATE JETLM_CUDA_TRACE)
endif()
if(JETLM_CUDA_EMULATE STREQUAL "tegra-x1")
  target_compile_definitions(jetlm_lib PUBLIC JETLM_CUDA_EMULATE_TEGRA_X1)
  message(STATUS "jetlm: CUDA device code and runtime emulate a Tegra X1 (Jetson Nano); JETLM_EMULATE_MEM_GB sets its memory")
endif()
target_link_libraries(jetlm_lib PUBLIC ${JETLM_CUDA_LIBS})

