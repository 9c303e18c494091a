/// One example's ReLU readout over a block of particles, in place:
///
///     z_j <- (z_j)_+   for j = 0 ..< count,     returns  sum_j t_j (z_j)_+,
///
/// the inner sum of h(x_i) = (1/m) sum_j theta2_j (theta1_j . x_i)_+ (seed 003 eq. 3.1) for ``ParticleSGD`` and
/// ``StudentStack``. Four interleaved partial sums a_0 ... a_3 (the tail of `count mod 4` terms goes to a_0) are added as
/// (a_0 + a_1) + (a_2 + a_3); this order is part of the result, so both callers stay bit for bit what they were.
@inline(__always)
func reluReadoutInPlace(_ z: UnsafeMutablePointer<Double>, weights t: UnsafePointer<Double>, count: Int) -> Double {
    var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    var j = 0
    while j + 4 <= count {
        let s0 = Swift.max(z[j], 0), s1 = Swift.max(z[j + 1], 0)
        let s2 = Swift.max(z[j + 2], 0), s3 = Swift.max(z[j + 3], 0)
        z[j] = s0; z[j + 1] = s1; z[j + 2] = s2; z[j + 3] = s3
        a0 += t[j] * s0; a1 += t[j + 1] * s1; a2 += t[j + 2] * s2; a3 += t[j + 3] * s3
        j += 4
    }
    while j < count { let s = Swift.max(z[j], 0); z[j] = s; a0 += t[j] * s; j += 1 }
    return (a0 + a1) + (a2 + a3)
}
