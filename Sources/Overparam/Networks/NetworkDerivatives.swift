import Foundation

/// A truncated multivariate Taylor expansion of a matrix-valued quantity in k <= 3 parameter directions:
/// `parts[S]` for a bitmask S of {1..k} holds the mixed derivative D^S M = d^{|S|} M / (d eps_{i1} ... d eps_{i|S|})
/// at eps = 0, where theta = theta_0 + sum_i eps_i v_i. `nil` stands for zero.
///
/// Products follow the Leibniz rule over subsets (C_S = sum_{T subset S} A_T B_{S\T}); activations follow
/// Faa di Bruno over set partitions (sigma(Z)_S = sum_pi sigma^(|pi|)(Z_0) prod_{B in pi} Z_B). Running the forward
/// pass on jets gives nested directional derivatives D^k f[v_1..v_k]; running the reverse pass on 1-direction jets
/// gives Hessian-vector products (forward over reverse).
struct Jet {
    var parts: [Matrix?]
    let directions: Int

    init(value: Matrix, directions k: Int) {
        parts = [Matrix?](repeating: nil, count: 1 << k)
        parts[0] = value
        directions = k
    }

    var value: Matrix { parts[0]! }

    static func product(_ a: Jet, _ ta: Transpose, _ b: Jet, _ tb: Transpose, alpha: Double) -> Jet {
        let k = a.directions
        var out = Jet(value: Matrix.product(a.parts[0]!, ta, b.parts[0]!, tb, alpha: alpha), directions: k)
        for s in 1..<(1 << k) {
            var acc: Matrix? = nil
            for t in subsets(of: s) {
                guard let at = a.parts[t], let bt = b.parts[s & ~t] else { continue }
                if acc == nil {
                    acc = Matrix.product(at, ta, bt, tb, alpha: alpha)
                } else {
                    Matrix.gemm(at, ta, bt, tb, alpha: alpha, beta: 1, into: &acc!)
                }
            }
            out.parts[s] = acc
        }
        return out
    }

    static func hadamard(_ a: Jet, _ b: Jet) -> Jet {
        let k = a.directions
        var out = Jet(value: a.parts[0]! .* b.parts[0]!, directions: k)
        for s in 1..<(1 << k) {
            var acc: Matrix? = nil
            for t in subsets(of: s) {
                guard let at = a.parts[t], let bt = b.parts[s & ~t] else { continue }
                let p = at .* bt
                if acc == nil { acc = p } else { acc!.add(p, scaledBy: 1) }
            }
            out.parts[s] = acc
        }
        return out
    }

    /// sigma^(m)(Z) as a jet (m = 0 for the activation itself, 1 for its derivative...).
    static func activation(_ z: Jet, _ act: Activation, derivativeOffset m: Int) -> Jet {
        let k = z.directions
        let z0 = z.parts[0]!
        var derivs = [Matrix]()   // sigma^(m + j)(Z_0) for j = 0...k
        for j in 0...k {
            derivs.append(Matrix(rows: z0.rows, cols: z0.cols, storage: Parallel.map(z0.storage) { act.derivative($0, order: m + j) }))
        }
        var out = Jet(value: derivs[0], directions: k)
        for s in 1..<(1 << k) {
            var acc: Matrix? = nil
            for partition in setPartitions(s) {
                var term = derivs[partition.count]
                var zero = false
                for block in partition {
                    guard let zb = z.parts[block] else { zero = true; break }
                    term = term .* zb
                }
                if zero { continue }
                if acc == nil { acc = term } else { acc!.add(term, scaledBy: 1) }
            }
            out.parts[s] = acc
        }
        return out
    }

    /// Non-empty proper and improper subsets T of S, including 0 and S itself.
    static func subsets(of s: Int) -> [Int] {
        var out = [Int](), t = s
        while true { out.append(t); if t == 0 { break }; t = (t - 1) & s }
        return out
    }

    /// All set partitions of the bitmask s (blocks as bitmasks).
    static func setPartitions(_ s: Int) -> [[Int]] {
        if s == 0 { return [[]] }
        let first = s & -s
        let rest = s & ~first
        var out = [[Int]]()
        for t in subsets(of: rest) {
            let block = first | t
            for p in setPartitions(s & ~block) { out.append([block] + p) }
        }
        return out
    }
}

extension Network {
    /// A parameter direction split into layer matrices (W parts) and bias rows.
    private func split(_ v: [Double], layer l: Int) -> (w: Matrix, b: [Double]) {
        (Network.weight(of: v, layout, l), layout.hasBias ? Array(v[layout.biasRange(l)]) : [])
    }

    /// The forward pass on jets along `directions` (1...3 parameter vectors).
    func forwardJets(_ x: Matrix, directions: [[Double]]) throws -> (pre: [Jet], inputs: [Jet]) {
        let k = directions.count
        guard (1...3).contains(k) else { throw OverparamError.invalidArgument(name: "directions", problem: "between 1 and 3 directions are supported (got \(k))") }
        for v in directions where v.count != layout.count {
            throw OverparamError.shapeMismatch("direction has \(v.count) entries, the network has \(layout.count) parameters")
        }
        guard x.cols == architecture.inputDimension else {
            throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the network expects \(architecture.inputDimension)")
        }
        let act = architecture.activation
        var inputs = [Jet(value: x, directions: k)]
        var pre = [Jet]()
        for l in 1...layout.layerCount {
            let s = scales[l - 1]
            var w = Jet(value: weight(layer: l), directions: k)
            for i in 0..<k { w.parts[1 << i] = Network.weight(of: directions[i], layout, l) }
            var z = Jet.product(inputs[l - 1], .none, w, .transposed, alpha: s.a)
            if layout.hasBias && s.beta != 0 {
                z.parts[0]!.addRowVector(bias(layer: l), scaledBy: s.beta)
                for i in 0..<k {
                    let bi = Array(directions[i][layout.biasRange(l)])
                    if z.parts[1 << i] == nil { z.parts[1 << i] = Matrix(rows: x.rows, cols: layout.widths[l]) }
                    z.parts[1 << i]!.addRowVector(bi, scaledBy: s.beta)
                }
            }
            pre.append(z)
            if l < layout.layerCount { inputs.append(Jet.activation(z, act, derivativeOffset: 0)) }
        }
        return (pre, inputs)
    }

    /// Jacobian-vector product: D f(x)[v] = J(x) v, an n x k matrix.
    public func jvp(_ x: Matrix, direction v: [Double]) throws -> Matrix {
        let (pre, _) = try forwardJets(x, directions: [v])
        return pre.last!.parts[1] ?? Matrix(rows: x.rows, cols: architecture.outputDimension)
    }

    /// Nested directional derivative D^k f(x)[v_1, ..., v_k] (k = 1, 2, 3) of the outputs, an n x k matrix:
    /// d^k/(d eps_1 ... d eps_k) f(x; theta + sum eps_i v_i) at eps = 0. Directions may repeat (D^3 f[v, v, v]).
    public func directionalDerivative(_ x: Matrix, directions: [[Double]]) throws -> Matrix {
        let (pre, _) = try forwardJets(x, directions: directions)
        return pre.last!.parts[(1 << directions.count) - 1] ?? Matrix(rows: x.rows, cols: architecture.outputDimension)
    }

    /// Hessian-vector product of the scalar F = sum_{i,c} G_ic f_c(x_i): (Hess_theta F) v, a P-vector.
    /// Computed forward-over-reverse: the reverse pass run on first-order jets along v.
    public func hvp(_ x: Matrix, outputCotangent g: Matrix, direction v: [Double]) throws -> [Double] {
        try reverseOnJets(x, outputCotangent: g, directions: [v]).last!
    }

    /// Gradient of the directional derivatives: for each subset S of the directions (bitmask index), the P-vector
    /// grad_theta (sum G_ic D^S f_c(x_i)). Index 0 is the plain gradient; with one direction v, index 1 is H v.
    public func reverseOnJets(_ x: Matrix, outputCotangent g: Matrix, directions: [[Double]]) throws -> [[Double]] {
        guard g.rows == x.rows && g.cols == architecture.outputDimension else {
            throw OverparamError.shapeMismatch("output cotangent is \(g.rows)x\(g.cols), expected \(x.rows)x\(architecture.outputDimension)")
        }
        let k = directions.count
        let (pre, inputs) = try forwardJets(x, directions: directions)
        let act = architecture.activation
        var grads = [[Double]](repeating: [Double](repeating: 0, count: layout.count), count: 1 << k)
        var delta = Jet(value: g, directions: k)
        for l in stride(from: layout.layerCount, through: 1, by: -1) {
            let s = scales[l - 1]
            let gw = Jet.product(delta, .transposed, inputs[l - 1], .none, alpha: s.a)
            for m in 0..<(1 << k) {
                if let part = gw.parts[m] { grads[m].replaceSubrange(layout.weightRange(l), with: part.storage) }
                if layout.hasBias, let dm = delta.parts[m] {
                    grads[m].replaceSubrange(layout.biasRange(l), with: dm.columnSums.map { $0 * s.beta })
                }
            }
            if l > 1 {
                var w = Jet(value: weight(layer: l), directions: k)
                for i in 0..<k { w.parts[1 << i] = Network.weight(of: directions[i], layout, l) }
                let back = Jet.product(delta, .none, w, .none, alpha: s.a)
                delta = Jet.hadamard(back, Jet.activation(pre[l - 2], act, derivativeOffset: 1))
            }
        }
        return grads
    }
}
