// The DeviceDesc (backends/memory_plan.h) of a CUDA device, from the runtime's
// queries, or the emulated profile's when this build has one (arch.h).
#pragma once
#include <cstdint>

#include "backends/memory_plan.h"

namespace jetlm {
namespace cuda {

// Capabilities and memory of `device` now; present = false without one.
// Under an emulated profile the device-memory figures are the profile's cap
// less what this process has allocated (note_device_alloc).
DeviceDesc describe_device(int device);
// Bytes this process's backends hold in device memory (the emulated cap's use).
void note_device_alloc(int64_t delta);
int64_t device_allocated();

}  // namespace cuda
}  // namespace jetlm
