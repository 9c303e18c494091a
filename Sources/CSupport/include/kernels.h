#ifndef OVERPARAM_KERNELS_H
#define OVERPARAM_KERNELS_H
/// The fused infinite-width recursion of one row of an ab-ReLU network (NNGP in S, NTK in T), entries j0..n2-1.
/// On entry S[j] holds the first-layer Gram x_i . x_j / d. coef holds (rho, sb, gamma, beta2) per layer; r1/i1 are
/// sqrt(q) and 1/sqrt(q) of the row's point per hidden layer (stride n1, index i); R2/I2 the same for the columns
/// (row-major, hidden layer l at offset (l-1) n2). Vectorized (AVX-512 / AVX2 clones chosen at run time).
void overparam_abrelu_row(int n1, int n2, int i, int j0, int layers, const double *coef,
                          const double *r1, const double *i1, const double *R2, const double *I2,
                          double a, double b, double *S, double *T);
#endif
