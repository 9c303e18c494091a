#define FORCE_OPENBLAS_COMPLEX_STRUCT
#include <cblas.h>
/* OpenBLAS thread control (declared in openblas's cblas.h on Debian; repeated for clarity). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
