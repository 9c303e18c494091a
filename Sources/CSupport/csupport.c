#include "csupport.h"
#include <malloc.h>

void overparam_keep_large_allocations_in_heap(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
