import Foundation
import CBLAS

/// The objective whose gradient ``SmoothedMarginAscent`` follows.
public enum MarginObjective: String, Sendable, Equatable, Codable {
    /// Gradient ascent on the smoothed minimum margin (the authors' code for seed 003 figs. 5-6)
    ///
    ///     S(W) = -log( (1/n) sum_i exp(-y_i f(x_i)) ),   min_i y_i f(x_i) - log n <= S(W) <= min_i y_i f(x_i),
    ///
    /// whose gradient is the exponential-loss gradient normalized by the loss: grad S = sum_i p_i y_i grad f(x_i) with
    /// p = softmax(-y f) (a probability vector concentrating on the points of smallest margin).
    case smoothedMargin = "smoothed-margin"
    /// Gradient descent on the logistic loss of seed 003 sec. 5.2, L(W) = (1/n) sum_i log(1 + exp(-y_i f(x_i))), i.e. ascent
    /// on -L with weights q_i = sigmoid(-y_i f(x_i)) / n in place of p_i (unnormalized: the steps shrink as the loss does,
    /// which is why the authors use the smoothed margin instead).
    case logistic
}

/// One observation of ``SmoothedMarginAscent``: the objective and the margins of the network after `iteration` steps.
public struct MarginTrainingRecord: Sendable, Equatable {
    /// Steps taken (0: the initialization).
    public var iteration: Int
    /// S(W) for ``MarginObjective/smoothedMargin`` (maximized), the logistic loss L(W) for ``MarginObjective/logistic``
    /// (minimized).
    public var objective: Double
    /// min_i y_i f(x_i), unnormalized.
    public var minimumMargin: Double
    /// gamma_2 = min_i y_i f(x_i) / (||a||_2 / sqrt m): SEED-NOTES' output-layer normalized margin (NaN when a = 0).
    public var outputLayerMargin: Double
    /// gamma_1 = min_i y_i f(x_i) / ((1/m) sum_j |a_j| ||w_j||): SEED-NOTES' both-layers (F1) normalized margin (NaN when
    /// the denominator is 0). Defined for either regime: for output-layer training it is the F1 margin of the trained
    /// random-feature predictor.
    public var bothLayersMargin: Double
    /// The margin the authors' code records: min y f / ((1/m) sum_j (a_j^2 + ||w_j||^2)) (both layers) or
    /// min y f / (||a||_2 / m) = sqrt(m) gamma_2 (output layer).
    public var authorsMargin: Double
}

/// Gradient ascent on the smoothed minimum margin (or descent on the logistic loss) of a wide two-layer ReLU network,
/// training both layers or only the output layer: the training behind seed 003 sec. 5.5, figs. 5-6 (the implicit biases
/// of Theorems 4-5), following the conventions of the authors' code (lchizat/2020-implicit-bias-wide-2NN).
///
/// Model (seed 003 sec. 5.2, mean-field scaling): on inputs x in R^D that already carry the bias coordinate
/// (``ClusterClassificationData``: x = (1, x_1, ..., x_d), D = d + 1),
///
///     f(x) = (1/m) sum_{j<=m} a_j (w_j . x)_+,      a = theta2 (m output weights),  w_j = theta1_j (rows of an m x D matrix).
///
/// Objective: ``MarginObjective/smoothedMargin`` S(W) = -log((1/n) sum_i exp(-y_i f(x_i))), evaluated stably as
/// mu - log((1/n) sum_i exp(mu - y_i f(x_i))) with mu = min_i y_i f(x_i) (the authors' "stabilization").
/// With p = softmax(-y f), its gradient is
///
///     dS/da_j = (1/m) sum_i p_i y_i (w_j . x_i)_+,      dS/dw_j = (1/m) a_j sum_i p_i y_i 1[w_j . x_i > 0] x_i,
///
/// and the step moves along m grad S (the mean-field scaling of seed 003 eq. 3.3: each particle follows
/// grad_w J(w | mu) without the 1/m; the authors' `grad_w1`, `grad_w2`). The k-th step, k = 1, 2, ... (the authors'
/// `for iter = 1:niter`, step `stepsize / sqrt(iter + 1)`), is
///
///     both layers:        (a, W) <- (a, W) + gamma / sqrt(k + 1) * m grad S(a, W),
///     output layer only:  a      <- a      + beta_k gamma / sqrt(k + 1) * m grad_a S(a, W),   beta_k = max(1, ||a||_2 / sqrt m),
///
/// (W frozen). The 1/sqrt(k) schedule on a loss-normalized gradient is the "normalized gradient descent" that makes the
/// margin converge much faster than constant-step descent on the logistic loss (Nacson et al. 2019); the direction still
/// converges only slowly (SEED-NOTES: O(1/log t) in the theory; state horizons and tolerances, never "-> 1").
/// ``MarginObjective/logistic`` replaces p_i by q_i = sigmoid(-y_i f(x_i)) / n (descent on L) with the same steps.
///
/// Initialization (``init(inputs:labels:width:trainedLayers:stepSize:objective:seed:)``, the authors' `randn(m, d+1)`):
/// every w_j ~ N(0, I_D) (stream 1 of `seed`), a_j ~ N(0, 1) (stream 2) when both layers are trained and a = 0 for the
/// output layer alone, so both regimes started from one seed share their first layer.
///
/// Normalized margins (``MarginTrainingRecord``; SEED-NOTES sec. 2, ``NormalizedMargins``):
/// - output layer: with seed 003 sec. 5.3's features Phi(x)_j = (1/sqrt m)(w_j . x)_+ we have f = theta2 . Phi with
///   theta2 = a / sqrt(m), so gamma_2 = min_i y_i f(x_i) / ||theta2||_2 = min_i y_i f(x_i) / (||a||_2 / sqrt m). The
///   minimum-norm representation of f in the span of the features is its norm in the RKHS of the random-feature kernel
///   k-hat(x, x') = Phi(x) . Phi(x') = (1/m) sum_j (w_j . x)_+ (w_j . x')_+, so ||theta2||_2 >= ||f||_{k-hat} and
///   **gamma_2 <= the hard-margin SVM margin of k-hat, exactly** (``KernelMaxMargin`` on ``RandomFeatures/kernel(_:_:)``);
///   gradient ascent moves a only inside the span of the Phi(x_i) (a starts at 0), where equality of the norms holds.
///   Relation to the sphere kernel of Theorem 4: writing w_j = |w_j| eta_j with eta_j uniform on the sphere and independent
///   of |w_j|, E k-hat(x, x') = E|w|^2 E[(eta . x)_+ (eta . x')_+] = D k(x, x') (``ArcCosineSphereKernel``). Scaling a kernel
///   by c scales RKHS norms by 1/sqrt(c) and max margins by sqrt(c), so as m -> infinity the SVM margin of k-hat tends to
///   sqrt(D) times that of the sphere kernel, and the normalized predictors (f / ||f||) coincide.
///   The authors record sqrt(m) gamma_2.
/// - both layers: gamma_1 = min_i y_i f(x_i) / ((1/m) sum_j |a_j| ||w_j||). Since f = sum_j c_j (eta_j . x)_+ with
///   c_j = a_j ||w_j|| / m, the denominator is the total variation of a measure representing f, >= the variation norm
///   Omega(f) of sec. 5.4, so **gamma_1 <= the F1 max margin**; in particular gamma_1 <= the max margin of
///   ``VariationNormMaxMargin`` on any direction grid that contains the network's own directions w_j / |w_j| (exact),
///   whereas a grid without them only gives a lower bound on the F1 max margin (no inequality with gamma_1).
///   The authors record min y f / ((1/m) sum_j (a_j^2 + |w_j|^2)) <= gamma_1 / 2 (AM-GM).
///
/// Cost per step (both layers): two GEMMs of m x D x n (pre-activations W X^T and the input-weight gradient M X with
/// M_ji = a_j p_i y_i 1[w_j . x_i > 0]), two GEMVs with the m x n activations (f and m grad_a S) and two element-wise
/// passes over them (ReLU, mask); the output layer alone: two GEMVs with the frozen m x n features. Measured here (one
/// thread, busy machine): about 1.1 ms per step for m = 1000, n = 256, D = 15 (the GEMMs take two thirds) and 0.3 ms for
/// n = 100, D = 3; the output layer alone 0.04-0.1 ms. The neurons are split into fixed blocks (a function of n, m and
/// D only) that run on ``Parallel/threadCount`` threads with OpenBLAS single-threaded for the step (``Threading``), so
/// the results do not depend on the thread count. Copies of a trainer are independent (value semantics; scratch memory
/// is reallocated on the first step of a copy).
///
/// Differences from the seed: seed 003 sec. 5.2 states the results for gradient flow on the logistic loss; the
/// authors' figures (and the default here) use discrete ascent on the smoothed margin S, which has the same max-margin
/// limit points (both are exponentially-tailed losses; S is the log of the exponential loss).
public struct SmoothedMarginAscent: Sendable {
    /// Where the neuron blocks of a step run (the two give bit-identical results).
    public enum Threading: Sendable, Equatable {
        /// On up to ``Parallel/threadCount`` threads, with OpenBLAS set to one thread during each step (process-wide:
        /// step one `.parallel` trainer at a time).
        case parallel
        /// Every block on the calling thread; OpenBLAS's thread count is left to the caller (set it to 1 to run many
        /// trainers concurrently).
        case callerOnly
    }

    /// x_i (n x D, bias coordinate included by the caller).
    public let inputs: Matrix
    /// y_i in {-1, +1}.
    public let labels: [Double]
    public let trainedLayers: TrainedLayers
    public let objective: MarginObjective
    /// gamma (the authors' `stepsize`, 0.5-1).
    public let stepSize: Double
    public var threading: Threading = .parallel
    /// a (m).
    public private(set) var outputWeights: [Double]
    /// W (m x D, one neuron per row).
    public private(set) var inputWeights: Matrix
    /// Steps taken.
    public private(set) var iteration = 0
    var workspace: MarginWorkspace

    /// The authors' initialization: w_j ~ N(0, I_D) (stream 1 of `seed`); a_j ~ N(0, 1) (stream 2) for ``TrainedLayers/both``,
    /// a = 0 for ``TrainedLayers/outputOnly``.
    public init(inputs: Matrix, labels: [Double], width m: Int, trainedLayers: TrainedLayers, stepSize: Double,
                objective: MarginObjective = .smoothedMargin, seed: UInt64) throws {
        guard m >= 1 else { throw OverparamError.invalidArgument(name: "width", problem: "needs m >= 1 neurons, got \(m)") }
        guard inputs.cols >= 1 else { throw OverparamError.shapeMismatch("inputs have no columns") }
        var r1 = Xoshiro256StarStar(seed: seed, stream: 1)
        var r2 = Xoshiro256StarStar(seed: seed, stream: 2)
        let w = Matrix.randomNormal(rows: m, cols: inputs.cols, using: &r1)
        let a = trainedLayers == .both ? r2.normals(m) : [Double](repeating: 0, count: m)
        try self.init(inputs: inputs, labels: labels, outputWeights: a, inputWeights: w, trainedLayers: trainedLayers,
                      stepSize: stepSize, objective: objective)
    }

    /// Start from given weights a (m) and W (m x D).
    public init(inputs: Matrix, labels: [Double], outputWeights a: [Double], inputWeights w: Matrix, trainedLayers: TrainedLayers,
                stepSize: Double, objective: MarginObjective = .smoothedMargin) throws {
        let n = inputs.rows
        guard n >= 1 else { throw OverparamError.invalidArgument(name: "inputs", problem: "no training points") }
        guard labels.count == n else { throw OverparamError.shapeMismatch("\(n) inputs but \(labels.count) labels") }
        guard labels.allSatisfy({ $0 == 1 || $0 == -1 }) else {
            throw OverparamError.invalidArgument(name: "labels", problem: "labels must be +1 or -1")
        }
        guard !a.isEmpty else { throw OverparamError.invalidArgument(name: "width", problem: "needs m >= 1 neurons, got 0") }
        guard w.rows == a.count else { throw OverparamError.shapeMismatch("W has \(w.rows) rows (neurons) but a has \(a.count) entries") }
        guard w.cols == inputs.cols else {
            throw OverparamError.shapeMismatch("inputs have \(inputs.cols) columns but W has \(w.cols) (include the bias coordinate in both)")
        }
        guard inputs.isFinite else { throw OverparamError.nonFinite("training inputs contain NaN or Inf") }
        guard w.isFinite, a.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("initial weights contain NaN or Inf") }
        guard stepSize.isFinite, stepSize > 0 else {
            throw OverparamError.invalidArgument(name: "stepSize", problem: "gamma must be finite and > 0, got \(stepSize)")
        }
        self.inputs = inputs
        self.labels = labels
        self.trainedLayers = trainedLayers
        self.objective = objective
        self.stepSize = stepSize
        outputWeights = a
        inputWeights = w
        workspace = MarginWorkspace(inputs: inputs, labels: labels, inputWeights: w, features: trainedLayers == .outputOnly)
    }

    /// m.
    public var width: Int { outputWeights.count }
    /// n.
    public var sampleCount: Int { inputs.rows }

    /// The step of the k-th iteration (k = 1, 2, ...) before the output-layer factor beta_k: gamma / sqrt(k + 1).
    public func learningRate(iteration k: Int) -> Double { stepSize / Double(k + 1).squareRoot() }

    // MARK: Evaluation

    /// f(x) = (1/m) sum_j a_j (w_j . x)_+ at the rows of `x` (D columns, bias included).
    public func predict(_ x: Matrix) throws -> [Double] {
        try NormalizedMargins.outputs(outputWeights: outputWeights, inputWeights: inputWeights, inputs: x, scaling: .meanField)
    }

    /// The current network as a ``MeanFieldNetwork`` (theta2 = a, theta1 = W). With `inputBias` true, column 0 of the
    /// inputs is taken to be the constant bias coordinate: the network then expects raw inputs with D - 1 columns and
    /// prepends the 1 itself (``MeanFieldNetwork/augmented(_:)``).
    public func network(inputBias: Bool = false) throws -> MeanFieldNetwork {
        try MeanFieldNetwork(theta2: outputWeights, theta1: inputWeights, activation: .relu, inputBias: inputBias)
    }

    /// The objective, the margins and the normalized margins of the current weights (one extra GEMM).
    public func record() throws -> MarginTrainingRecord {
        let f = try predict(inputs)
        let m = Double(width)
        let minMargin = zip(labels, f).map { $0 * $1 }.min()!
        let aNorm = dot(outputWeights, outputWeights).squareRoot()
        var path = 0.0, squares = dot(outputWeights, outputWeights)
        let d = inputWeights.cols
        inputWeights.storage.withUnsafeBufferPointer { wp in
            for j in 0..<width {
                var s = 0.0
                for k in 0..<d { s += wp[j * d + k] * wp[j * d + k] }
                path += abs(outputWeights[j]) * s.squareRoot()
                squares += s
            }
        }
        path /= m
        let outputNorm = aNorm / m.squareRoot()
        let authors = trainedLayers == .both ? minMargin / (squares / m) : minMargin / (aNorm / m)
        return MarginTrainingRecord(iteration: iteration, objective: Self.objectiveValue(f, labels, objective), minimumMargin: minMargin,
                                    outputLayerMargin: outputNorm > 0 ? minMargin / outputNorm : .nan,
                                    bothLayersMargin: path > 0 ? minMargin / path : .nan,
                                    authorsMargin: authors.isFinite ? authors : .nan)
    }

    /// S from the outputs f_i (stable), or the logistic loss.
    static func objectiveValue(_ f: [Double], _ y: [Double], _ objective: MarginObjective) -> Double {
        let n = Double(f.count)
        switch objective {
        case .smoothedMargin:
            var mu = Double.infinity
            for i in f.indices { mu = Swift.min(mu, y[i] * f[i]) }
            var s = 0.0
            for i in f.indices { s += Foundation.exp(mu - y[i] * f[i]) }
            return mu - Foundation.log(s / n)
        case .logistic:
            var s = 0.0
            for i in f.indices { s += softplus(-y[i] * f[i]) }
            return s / n
        }
    }

    /// log(1 + e^t) without overflow.
    @inline(__always) static func softplus(_ t: Double) -> Double { t > 0 ? t + Foundation.log1p(Foundation.exp(-t)) : Foundation.log1p(Foundation.exp(t)) }

    /// The per-point weights of the ascent direction: p_i y_i (smoothed margin, p = softmax(-y f)) or q_i y_i with
    /// q_i = sigmoid(-y_i f_i) / n (logistic); also returns the objective.
    static func pointWeights(_ f: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ g: UnsafeMutablePointer<Double>, n: Int,
                             _ objective: MarginObjective) -> Double {
        switch objective {
        case .smoothedMargin:
            var mu = Double.infinity
            for i in 0..<n { mu = Swift.min(mu, y[i] * f[i]) }
            var s = 0.0
            for i in 0..<n { let e = Foundation.exp(mu - y[i] * f[i]); g[i] = e; s += e }
            let inv = 1 / s
            for i in 0..<n { g[i] *= inv * y[i] }
            return mu - Foundation.log(s / Double(n))
        case .logistic:
            var loss = 0.0
            let invN = 1 / Double(n)
            for i in 0..<n {
                let t = y[i] * f[i]
                loss += softplus(-t)
                // sigmoid(-t) = 1 / (1 + e^t), stable for either sign.
                let q = t >= 0 ? Foundation.exp(-t) / (1 + Foundation.exp(-t)) : 1 / (1 + Foundation.exp(t))
                g[i] = q * invN * y[i]
            }
            return loss * invN
        }
    }

    /// The exact gradient of the followed objective at the current weights (S, or -L for the logistic loss), WITHOUT the
    /// factor m of the steps: (value, dS/da (m), dS/dW (m x D)). Written with plain matrix products, independently of the
    /// fused step (the tests compare it with finite differences and with the steps).
    public func objectiveGradient() -> (value: Double, outputWeights: [Double], inputWeights: Matrix) {
        let n = sampleCount, m = width, d = inputs.cols
        let z = Matrix.product(inputWeights, .none, inputs, .transposed)       // m x n
        let act = z.map { Swift.max($0, 0) }
        let f = act.apply(outputWeights, .transposed, alpha: 1 / Double(m))   // n
        var g = [Double](repeating: 0, count: n)
        let value: Double = f.withUnsafeBufferPointer { fp in labels.withUnsafeBufferPointer { yp in
            g.withUnsafeMutableBufferPointer { gp in Self.pointWeights(fp.baseAddress!, yp.baseAddress!, gp.baseAddress!, n: n, objective) } } }
        let ga = act.apply(g, alpha: 1 / Double(m))
        var mask = Matrix(rows: m, cols: n)
        for j in 0..<m { for i in 0..<n where z[j, i] > 0 { mask[j, i] = outputWeights[j] * g[i] } }
        let gw = Matrix.product(mask, .none, inputs, .none, alpha: 1 / Double(m))
        precondition(gw.cols == d)
        let sign = objective == .logistic ? -1.0 : 1.0
        return (sign * value, ga, gw)
    }

    // MARK: Training

    mutating func ensureWorkspace() {
        if !isKnownUniquelyReferenced(&workspace) {
            workspace = MarginWorkspace(inputs: inputs, labels: labels, inputWeights: inputWeights, features: trainedLayers == .outputOnly)
        }
    }

    /// One step (iteration k = ``iteration`` + 1); returns the objective at the weights before the step. Throws
    /// ``OverparamError/diverged(_:)`` when the outputs or the weights become non-finite.
    @discardableResult
    public mutating func step() throws -> Double {
        ensureWorkspace()
        let k = iteration + 1
        let value: Double
        switch trainedLayers {
        case .outputOnly: value = outputLayerStep(k)
        case .both: value = bothLayersStep(k)
        }
        guard value.isFinite, outputWeights.allSatisfy({ $0.isFinite }) else {
            throw OverparamError.diverged("margin ascent: non-finite objective or weights at step \(k); lower the step size gamma = \(stepSize)")
        }
        iteration = k
        return value
    }

    /// `iterations` steps; returns a record (``record()``) at every iteration count in `recordAt` that is reached
    /// (0 = before the first step), in order.
    public mutating func train(iterations: Int, recordAt: [Int] = []) throws -> [MarginTrainingRecord] {
        guard iterations >= 0 else { throw OverparamError.invalidArgument(name: "iterations", problem: "must be >= 0, got \(iterations)") }
        let wanted = Set(recordAt)
        var records = [MarginTrainingRecord]()
        if wanted.contains(iteration) { records.append(try record()) }
        for _ in 0..<iterations {
            try step()
            if wanted.contains(iteration) { records.append(try record()) }
        }
        return records
    }

    /// About `points` iteration counts from 0 to `last`, geometrically spaced (0, 1, 2, ..., then ratios ~ constant),
    /// always including 0 and `last`.
    public static func geometricSchedule(last: Int, points: Int) -> [Int] {
        guard last > 0 else { return [0] }
        let p = Swift.max(2, points)
        var out: Set<Int> = [0, last]
        let ratio = Foundation.pow(Double(last), 1 / Double(p - 1))
        var t = 1.0
        for _ in 0..<(p - 1) { out.insert(Swift.min(last, Int(t.rounded()))); t *= ratio }
        return out.sorted()
    }

    /// a += beta_k gamma / sqrt(k + 1) * Phi_fixed g, with f = (1/m) Phi^T a (two GEMVs on the frozen features).
    mutating func outputLayerStep(_ k: Int) -> Double {
        let ws = workspace
        let m = width, n = sampleCount
        let features = ws.z
        nonisolated(unsafe) let f = ws.out, g = ws.g
        let beta = Swift.max(1, dot(outputWeights, outputWeights).squareRoot() / Double(m).squareRoot())
        let eta = beta * learningRate(iteration: k)
        var value = 0.0
        outputWeights.withUnsafeMutableBufferPointer { ap in
            let a = ap.baseAddress!
            cblas_dgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), 1 / Double(m), features, Int32(n), a, 1, 0, f, 1)
            value = Self.pointWeights(f, ws.y, g, n: n, objective)
            guard value.isFinite else { return }
            // a += eta * Phi g  (Phi = m x n activations; m grad_a S = Phi g).
            cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), eta, features, Int32(n), g, 1, 1, a, 1)
        }
        return value
    }

    /// The fused both-layers step on fixed neuron blocks.
    mutating func bothLayersStep(_ k: Int) -> Double {
        let ws = workspace
        let m = width, n = sampleCount, dd = inputs.cols
        let blocking = ws.blocking
        let eta = learningRate(iteration: k)
        let inline = threading == .callerOnly || blocking.blocks == 1
        let blasThreads = threading == .parallel ? openblas_get_num_threads() : 1
        if blasThreads != 1 { openblas_set_num_threads(1) }
        defer { if blasThreads != 1 { openblas_set_num_threads(blasThreads) } }
        nonisolated(unsafe) let x = ws.x, z = ws.z, hpart = ws.hpart, f = ws.out, g = ws.g, grad = ws.gradA
        var value = 0.0
        inputWeights.storage.withUnsafeMutableBufferPointer { wp in
            outputWeights.withUnsafeMutableBufferPointer { ap in
                nonisolated(unsafe) let w = wp.baseAddress!, a = ap.baseAddress!
                // Phase A, block b of neurons J_b: Z[J_b, :] = W[J_b] X^T (GEMM); Z <- max(Z, 0); hpart_b = Z[J_b, :]^T a[J_b] (GEMV).
                blocking.run(inline: inline) { b in
                    let r = blocking.range(b)
                    let j0 = r.lowerBound, mb = r.count
                    let hp = hpart + b * n
                    if mb == 0 { for i in 0..<n { hp[i] = 0 }; return }
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(mb), Int32(n), Int32(dd), 1,
                                w + j0 * dd, Int32(dd), x, Int32(dd), 0, z + j0 * n, Int32(n))
                    let zb = z + j0 * n
                    for q in 0..<(mb * n) { zb[q] = Swift.max(zb[q], 0) }
                    cblas_dgemv(CblasRowMajor, CblasTrans, Int32(mb), Int32(n), 1, zb, Int32(n), a + j0, 1, 0, hp, 1)
                }
                // f_i = (1/m) sum_b hpart_b(i) (block order); point weights g_i = p_i y_i.
                let invM = 1 / Double(m)
                for i in 0..<n {
                    var s = 0.0
                    for b in 0..<blocking.blocks { s += hpart[b * n + i] }
                    f[i] = s * invM
                }
                value = Self.pointWeights(f, ws.y, g, n: n, objective)
                guard value.isFinite else { return }
                // Phase B, block b: grad[J_b] = Z[J_b, :] g (GEMV; m dS/da); Z_ji <- a_j g_i 1[Z_ji > 0];
                // W[J_b] += eta Z[J_b, :] X (= eta m dS/dW); a_j += eta grad_j.
                blocking.run(inline: inline) { b in
                    let r = blocking.range(b)
                    let j0 = r.lowerBound, mb = r.count
                    if mb == 0 { return }
                    let zb = z + j0 * n
                    cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(mb), Int32(n), 1, zb, Int32(n), g, 1, 0, grad + j0, 1)
                    for j in j0..<(j0 + mb) {
                        let zj = z + j * n, aj = a[j]
                        // Branch-free 1[s > 0] for s = max(z, 0) >= 0: s > 0 iff bits(s) - 1 < bits(+inf) (0 and -0 map to
                        // 0); a data-dependent branch per entry costs 10x the whole pass (measured).
                        for i in 0..<n {
                            let on: UInt64 = (zj[i].bitPattern &- 1) < 0x7FF0_0000_0000_0000 ? ~0 : 0
                            zj[i] = Double(bitPattern: (aj * g[i]).bitPattern & on)
                        }
                    }
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(mb), Int32(dd), Int32(n), eta,
                                z + j0 * n, Int32(n), x, Int32(dd), 1, w + j0 * dd, Int32(dd))
                    for j in j0..<(j0 + mb) { a[j] += eta * grad[j] }
                }
            }
        }
        // Overflowing input weights make the next step's outputs (and objective) non-finite, which step() reports.
        return value
    }
}

/// Scratch memory of ``SmoothedMarginAscent`` (allocated once per trainer; copies get their own on their next step).
/// For output-layer training `z` holds the frozen features (w_j . x_i)_+ (m x n); for both layers it is the m x n
/// pre-activation / gradient-mask scratch.
final class MarginWorkspace: @unchecked Sendable {
    let x: UnsafeMutablePointer<Double>
    let y: UnsafeMutablePointer<Double>
    let z: UnsafeMutablePointer<Double>
    let hpart: UnsafeMutablePointer<Double>
    let out: UnsafeMutablePointer<Double>
    let g: UnsafeMutablePointer<Double>
    let gradA: UnsafeMutablePointer<Double>
    let blocking: ParticleBlocking

    init(inputs: Matrix, labels: [Double], inputWeights w: Matrix, features: Bool) {
        let n = inputs.rows, dd = inputs.cols, m = w.rows
        blocking = ParticleBlocking(rows: n, width: m, featureDimension: dd, entryCost: 8, minimumWorkLog2: 20)
        func alloc(_ c: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, c))
            p.initialize(repeating: 0, count: Swift.max(1, c))
            return p
        }
        x = alloc(n * dd); y = alloc(n); z = alloc(m * n); hpart = alloc(blocking.blocks * n)
        out = alloc(n); g = alloc(n); gradA = alloc(m)
        inputs.storage.withUnsafeBufferPointer { x.update(from: $0.baseAddress!, count: n * dd) }
        labels.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: n) }
        if features {
            w.storage.withUnsafeBufferPointer { wp in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(dd), 1,
                            wp.baseAddress, Int32(dd), x, Int32(dd), 0, z, Int32(n))
            }
            for q in 0..<(m * n) where z[q] < 0 { z[q] = 0 }
        }
    }

    deinit {
        for p in [x, y, z, hpart, out, g, gradA] { p.deallocate() }
    }
}
