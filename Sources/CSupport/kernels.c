#include "kernels.h"
#include <math.h>
#include <stddef.h>

#define PI 3.14159265358979311600e+00

/* fdlibm's rational approximation of asin on [0, 1/2]; acos(x) = pi/2 - asin(x) for |x| <= 1/2,
   2 asin(sqrt((1 - |x|)/2)) otherwise. Branch-free so the loop vectorizes. */
static inline double acos_poly(double x) {
    double ax = fabs(x);
    int big = ax > 0.5;
    double z = big ? (1.0 - ax) * 0.5 : x * x;
    double p = z * (1.66666666666666657415e-01 + z * (-3.25565818622400915405e-01 + z * (2.01212532134862925881e-01 +
               z * (-4.00555345006794114027e-02 + z * (7.91534994289814532176e-04 + z * 3.47933107596021167570e-05)))));
    double q = 1.0 + z * (-2.40339491173441421878e+00 + z * (2.02094576023350569471e+00 + z * (-6.88283971605453293030e-01 +
               z * 7.70381505559019352791e-02)));
    double r = p / q;
    double small = 1.57079632679489655800e+00 - (x - (6.12323399573676603587e-17 - x * r));
    double s = sqrt(z);
    double w = s + s * r;
    double large = x > 0 ? 2.0 * w : PI - 2.0 * w;
    return big ? large : small;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void overparam_abrelu_row(int n1, int n2, int i, int j0, int layers, const double *coef,
                          const double *r1, const double *i1, const double *R2, const double *I2,
                          double a, double b, double *restrict S, double *restrict T) {
    const double snap = 1.0 - 4.0 * 2.220446049250313e-16;
    const double inv2pi = 1.0 / (2.0 * PI);
    const double ab2 = (a - b) * (a - b), a2b2 = a * a + b * b, two_ab = 2.0 * a * b;
    for (int j = j0; j < n2; j++) {
        double g = S[j];
        S[j] = coef[0] * g + coef[1];
        T[j] = coef[2] * g + coef[3];
    }
    for (int l = 1; l < layers; l++) {
        const double rho = coef[4 * l], sb = coef[4 * l + 1], gam = coef[4 * l + 2], b2 = coef[4 * l + 3];
        const double ri = r1[(l - 1) * n1 + i], ii = i1[(l - 1) * n1 + i];
        const double *r2 = R2 + (size_t)(l - 1) * n2, *iv2 = I2 + (size_t)(l - 1) * n2;
        for (int j = j0; j < n2; j++) {
            double s12 = S[j];
            double norm = ri * r2[j];
            double c = s12 * (ii * iv2[j]);
            c = c > snap ? 1.0 : (c < -snap ? -1.0 : c);
            double theta = acos_poly(c);
            double om = (1.0 - c) * (1.0 + c);
            double sn = norm * sqrt(om > 0.0 ? om : 0.0);
            double mix = a2b2 * (PI - theta) + two_ab * theta;
            double e = (ab2 * sn + mix * s12) * inv2pi;
            double ed = mix * inv2pi;
            T[j] = gam * e + b2 + rho * ed * T[j];
            S[j] = rho * e + sb;
        }
    }
}
