#ifndef OVERPARAM_CSUPPORT_H
#define OVERPARAM_CSUPPORT_H
/// Keep large allocations in the malloc heap (no mmap/munmap and page faults per temporary matrix).
void overparam_keep_large_allocations_in_heap(void);
#include "kernels.h"
#endif
