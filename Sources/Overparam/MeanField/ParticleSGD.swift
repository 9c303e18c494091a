import Foundation
import Dispatch
import CBLAS

/// How a minibatch gradient is formed from the B samples of a batch.
public enum BatchGradientConvention: String, Sendable, Equatable {
    /// Both layers follow the gradient of the batch risk (1/2B) sum_i (h(x_i) - y_i)^2, an unbiased estimate of the
    /// population gradient: SGD is then a noisy Euler scheme of the flow W' = -m grad G(W) with time step gamma.
    case mean
    /// Seed 003 figs. 2-3 (the authors' code, SEED-NOTES sec. 3): theta2's gradient is averaged over the batch but
    /// theta1's is summed (`GB = A .* (H .> 0) * (X .* G)'` without `/bs`), so theta1's learning rate is B times theta2's.
    /// As gamma -> 0 this follows a preconditioned flow (theta1' = -B grad_theta1 J, theta2' = -grad_theta2 J), not the
    /// mean-field flow W' = -m grad G; its stationary points are the same. Use it to reproduce those figures
    /// (fig. 3: gamma = 0.005, B = 100, so theta1 effectively moves with 0.5).
    case sumForInputWeights = "sum-theta1"
}

/// Minibatch stochastic gradient descent on the particles with step gamma m (seed 003 eq. 3.3 with a stochastic
/// gradient; sec. 4.4's "SGD with fresh new samples"):
///
///     theta2_j <- (1 - gamma lambda2) theta2_j - gamma (1/B) sum_i delta_i sigma(theta1_j . x~_i)
///     theta1_j <- (1 - gamma lambda1) theta1_j - gamma s (1/B) sum_i delta_i theta2_j sigma'(theta1_j . x~_i) x~_i
///     [+ sqrt(2 lambda gamma) xi for every coordinate when a temperature lambda > 0 is set; ``NoisyParticleDynamics``]
///
/// with delta_i = h(x_i) - y_i, s = 1 (``BatchGradientConvention/mean``) or B (``BatchGradientConvention/sumForInputWeights``),
/// and lambda2, lambda1 the ``ConfiningPenalty``. This is w_j <- w_j - gamma grad J_batch(w_j | mu) (time step gamma).
/// A raw-parameter learning rate eta on the loss (1/2B) sum (h - y)^2 is gamma = eta / m; PyTorch's `MSELoss`
/// (no 1/2) with learning rate eta is gamma = 2 eta / m.
///
/// Batches come from a ``MeanFieldDistribution`` (fresh samples each step: SGD on the population risk) or from a fixed
/// set in reshuffled epochs (the last, smaller batch of an epoch is kept).
///
/// Implementation: the particles are split into fixed blocks (at least about 4M multiply-adds each, a function of n, m
/// and D only). Per block, on one thread: Z_b = X~ Theta1_b^T by OpenBLAS (single-threaded during the step), a fused pass for
/// sigma and the block's share of h; then, after h is summed over blocks in block order, a fused pass for theta2's
/// gradient and the matrix P (written over Z_b), and Theta1_b <- (1 - gamma lambda1) Theta1_b - gamma s P_b^T X~ (the
/// decay folded into GEMM's beta). Blocks run in parallel on ``Parallel/threadCount`` threads; results do not depend
/// on the thread count. Scratch buffers are allocated once; fresh Gaussian inputs use a ziggurat sampler.
/// With ``threading`` set to ``Threading/callerOnly`` the blocks run one after another on the calling thread and the
/// step never touches OpenBLAS's process-wide thread count, so many SGDs can run concurrently, one per thread (same
/// results, bit for bit).
public struct ParticleSGD: Sendable {
    /// Where the particle blocks of a step run. Both give bit-identical results (the blocks are fixed).
    public enum Threading: Sendable, Equatable {
        /// On up to ``Parallel/threadCount`` threads (``SpinningWorkers``), with OpenBLAS set to one thread for the
        /// duration of each step and restored after it. That setting is process-wide and the workers serialize jobs
        /// of different callers, so only one `.parallel` SGD should step at a time.
        case parallel
        /// All blocks on the calling thread, in order; OpenBLAS's thread count is left alone (the caller should set it
        /// to 1, as ``TeacherStudentSweep/runAll(seed:threads:progress:)`` does). For running many SGDs
        /// concurrently, each single-threaded.
        case callerOnly
    }
    /// Where the particle blocks run (default ``Threading/parallel``).
    public var threading: Threading = .parallel
    /// Output weights (working copy).
    var theta2: [Double]
    /// Input weights, row-major m x D (working copy).
    var theta1: [Double]
    let template: MeanFieldNetwork
    /// gamma.
    public let stepSize: Double
    /// B.
    public let batchSize: Int
    public let penalty: ConfiningPenalty
    public let convention: BatchGradientConvention
    public let trainedLayers: TrainedLayers
    /// lambda of the Langevin noise sqrt(2 lambda gamma) xi (0: plain SGD).
    public let temperature: Double
    /// Steps taken so far.
    public private(set) var stepsTaken = 0
    /// The batch risk (1/2B) sum_i (h(x_i) - y_i)^2 of the last batch, before its update.
    public private(set) var lastBatchRisk = Double.nan
    var dataRNG: Xoshiro256StarStar
    var noiseRNG: Xoshiro256StarStar
    var workspace: SGDWorkspace

    /// Throws for a non-positive step size or batch size, a negative temperature, or non-finite weights.
    /// `seed` drives the batches (stream 0x5347_4442) and the Langevin noise (stream 0x5347_4E4F).
    public init(network: MeanFieldNetwork, stepSize: Double, batchSize: Int, penalty: ConfiningPenalty = .none,
                convention: BatchGradientConvention = .mean, trainedLayers: TrainedLayers = .both,
                temperature: Double = 0, seed: UInt64) throws {
        guard stepSize.isFinite, stepSize > 0 else { throw OverparamError.invalidArgument(name: "stepSize", problem: "gamma must be finite and > 0, got \(stepSize)") }
        guard batchSize >= 1 else { throw OverparamError.invalidArgument(name: "batchSize", problem: "must be >= 1, got \(batchSize)") }
        guard temperature.isFinite, temperature >= 0 else { throw OverparamError.invalidArgument(name: "temperature", problem: "lambda must be finite and >= 0, got \(temperature)") }
        guard network.theta2.allSatisfy({ $0.isFinite }), network.theta1.isFinite else { throw OverparamError.nonFinite("initial particles") }
        theta2 = network.theta2
        theta1 = network.theta1.storage
        template = network
        self.stepSize = stepSize
        self.batchSize = batchSize
        self.penalty = penalty
        self.convention = convention
        self.trainedLayers = trainedLayers
        self.temperature = temperature
        dataRNG = Xoshiro256StarStar(seed: seed, stream: 0x5347_4442)
        noiseRNG = Xoshiro256StarStar(seed: seed, stream: 0x5347_4E4F)
        workspace = SGDWorkspace(rows: batchSize, width: network.width, featureDimension: network.featureDimension,
                                 inputDimension: network.inputDimension, needsSlopes: network.activation != .relu)
    }

    /// The current network.
    public var network: MeanFieldNetwork {
        var n = template
        n.theta2 = theta2
        n.theta1 = Matrix(rows: template.width, cols: template.featureDimension, storage: theta1)
        return n
    }

    mutating func ensureWorkspace(rows: Int) {
        if !isKnownUniquelyReferenced(&workspace) || workspace.rows < rows {
            workspace = SGDWorkspace(rows: Swift.max(rows, workspace.rows), width: template.width,
                                     featureDimension: template.featureDimension, inputDimension: template.inputDimension,
                                     needsSlopes: template.activation != .relu)
        }
    }

    /// One step on a given batch (raw inputs n x d, n >= 1 targets); returns the batch risk before the update.
    @discardableResult
    public mutating func step(inputs x: Matrix, targets y: [Double]) throws -> Double {
        guard x.rows >= 1, y.count == x.rows else { throw OverparamError.shapeMismatch("\(x.rows) inputs but \(y.count) targets (need at least one)") }
        guard x.cols == template.inputDimension else { throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the network expects d = \(template.inputDimension)") }
        guard x.isFinite, y.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("SGD batch") }
        ensureWorkspace(rows: x.rows)
        let ws = workspace
        x.storage.withUnsafeBufferPointer { xp in ws.loadRaw(rows: x.rows, from: xp.baseAddress!, bias: template.hasInputBias) }
        for i in 0..<x.rows { ws.y[i] = y[i] }
        return try kernelStep(rows: x.rows)
    }

    /// `steps` steps, each on `batchSize` fresh samples of `distribution` (SGD on the population risk).
    /// `observe(network, stepsTaken)` runs before the first step, after every `observeEvery`-th step and after the last.
    public mutating func train(_ distribution: some MeanFieldDistribution, steps: Int, observeEvery: Int = 0,
                               observe: (MeanFieldNetwork, Int) throws -> Void = { _, _ in }) throws {
        guard distribution.inputDimension == template.inputDimension else {
            throw OverparamError.shapeMismatch("distribution has d = \(distribution.inputDimension), the network expects \(template.inputDimension)")
        }
        guard steps >= 0, observeEvery >= 0 else { throw OverparamError.invalidArgument(name: "steps", problem: "steps and observeEvery must be >= 0") }
        ensureWorkspace(rows: batchSize)
        try observe(network, stepsTaken)
        let b = batchSize
        for k in 0..<steps {
            let ws = workspace
            distribution.sample(count: b, into: &ws.raw, targets: &ws.yArray, using: &dataRNG)
            ws.commitSample(rows: b, bias: template.hasInputBias)
            try kernelStep(rows: b)
            if k == steps - 1 || (observeEvery > 0 && stepsTaken % observeEvery == 0) { try observe(network, stepsTaken) }
        }
    }

    /// `epochs` passes over a fixed set in batches of `batchSize`, reshuffled every epoch (the last batch of an epoch
    /// may be smaller). `observe` as in ``train(_:steps:observeEvery:observe:)``.
    public mutating func train(inputs x: Matrix, targets y: [Double], epochs: Int, observeEvery: Int = 0,
                               observe: (MeanFieldNetwork, Int) throws -> Void = { _, _ in }) throws {
        guard x.rows >= 1, y.count == x.rows else { throw OverparamError.shapeMismatch("\(x.rows) inputs but \(y.count) targets (need at least one)") }
        guard x.cols == template.inputDimension else { throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the network expects d = \(template.inputDimension)") }
        guard x.isFinite, y.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("training set") }
        guard epochs >= 0, observeEvery >= 0 else { throw OverparamError.invalidArgument(name: "epochs", problem: "epochs and observeEvery must be >= 0") }
        ensureWorkspace(rows: batchSize)
        try observe(network, stepsTaken)
        let n = x.rows, d = x.cols
        var order = Array(0..<n)
        for e in 0..<epochs {
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, dataRNG.index(below: i + 1)) }
            var start = 0
            while start < n {
                let rows = Swift.min(batchSize, n - start)
                let ws = workspace
                x.storage.withUnsafeBufferPointer { xp in
                    for r in 0..<rows {
                        let src = order[start + r]
                        for c in 0..<d { ws.raw.storage[r * d + c] = xp[src * d + c] }
                        ws.yArray[r] = y[src]
                    }
                }
                ws.commitSample(rows: rows, bias: template.hasInputBias)
                try kernelStep(rows: rows)
                start += rows
                let last = e == epochs - 1 && start >= n
                if last || (observeEvery > 0 && stepsTaken % observeEvery == 0) { try observe(network, stepsTaken) }
            }
        }
    }

    /// One step on a batch the caller guarantees to be finite: `rows` x d inputs (leading dimension d) and `rows`
    /// targets, read in place (no copy, no checks) when the network has no input bias. Same arithmetic as
    /// ``step(inputs:targets:)``. For ``TeacherStudentSweep``, whose students share each step's batch.
    @discardableResult
    mutating func step(unchecked x: UnsafePointer<Double>, targets y: UnsafePointer<Double>, rows n: Int) throws -> Double {
        ensureWorkspace(rows: n)
        guard !template.hasInputBias else {
            let ws = workspace
            ws.loadRaw(rows: n, from: x, bias: true)
            ws.y.update(from: y, count: n)
            return try kernelStep(rows: n)
        }
        return try kernelStep(rows: n, inputs: x, targets: y)
    }

    /// The fused step on the first `rows` rows of the workspace batch, or on x~ = `inputs` (rows x D) and `targets`
    /// when given.
    @discardableResult
    mutating func kernelStep(rows n: Int, inputs: UnsafePointer<Double>? = nil, targets: UnsafePointer<Double>? = nil) throws -> Double {
        let ws = workspace
        let m = template.width, dd = template.featureDimension
        let act = template.activation, isReLU = act == .relu
        let gamma = stepSize
        let both = trainedLayers == .both
        let decay2 = 1 - gamma * penalty.theta2, decay1 = 1 - gamma * penalty.theta1
        let inputScale = convention == .sumForInputWeights ? Double(n) : 1
        let blocking = ParticleBlocking(rows: n, width: m, featureDimension: dd)
        nonisolated(unsafe) let x: UnsafePointer<Double> = inputs ?? UnsafePointer(ws.x)
        let yv: UnsafePointer<Double> = targets ?? UnsafePointer(ws.y)
        nonisolated(unsafe) let z = ws.z, h = ws.h, g = ws.g, slopes = ws.slopes, hpart = ws.hpart, grad2 = ws.grad2
        // Our threads run the blocks; OpenBLAS computes each block on the calling thread (never both at once, and the
        // arithmetic of a block does not depend on the thread count).
        // With `.callerOnly` the caller owns OpenBLAS's thread count and the blocks run inline.
        let inline = threading == .callerOnly
        let blasThreads = inline ? 1 : openblas_get_num_threads()
        if blasThreads != 1 { openblas_set_num_threads(1) }
        defer { if blasThreads != 1 { openblas_set_num_threads(blasThreads) } }
        var risk = 0.0
        theta1.withUnsafeMutableBufferPointer { t1p in
            theta2.withUnsafeMutableBufferPointer { t2p in
                nonisolated(unsafe) let t1 = t1p.baseAddress!, t2 = t2p.baseAddress!
                // Phase A, block b of particles J_b: Z[:, J_b] = X~ Theta1[J_b]^T; Z <- sigma(Z) (slopes aside);
                // hpart_b(i) = sum_{j in J_b} theta2_j sigma(z_ij).
                blocking.run(inline: inline) { b in
                    let r = blocking.range(b)
                    let j0 = r.lowerBound, mb = r.count
                    let hp = hpart + b * n
                    if mb == 0 { for i in 0..<n { hp[i] = 0 }; return }
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(mb), Int32(dd), 1,
                                x, Int32(dd), t1 + j0 * dd, Int32(dd), 0, z + j0, Int32(m))
                    let tb = t2 + j0
                    for i in 0..<n {
                        let zi = z + i * m + j0
                        if isReLU {
                            hp[i] = reluReadoutInPlace(zi, weights: tb, count: mb)
                        } else {
                            let si = slopes! + i * m + j0
                            var a = 0.0
                            for j in 0..<mb {
                                let (s, ds) = act.valueAndSlope(zi[j])
                                zi[j] = s; si[j] = ds; a += tb[j] * s
                            }
                            hp[i] = a
                        }
                    }
                }
                // h_i = (1/m) sum_b hpart_b(i) (block order); delta_i = h_i - y_i; g_i = delta_i / n.
                let invM = 1 / Double(m), invN = 1 / Double(n)
                for i in 0..<n {
                    var s = 0.0
                    for b in 0..<blocking.blocks { s += hpart[b * n + i] }
                    h[i] = s * invM
                    let e = h[i] - yv[i]
                    risk += e * e
                    g[i] = e * invN
                }
                risk *= 0.5 * invN
                guard risk.isFinite else { return }
                // Phase B, block b: grad2_j = sum_i g_i sigma(z_ij); Z[:, J_b] <- P, P_ij = g_i theta2_j sigma'(z_ij);
                // Theta1[J_b] <- decay1 Theta1[J_b] - gamma s P[:, J_b]^T X~; theta2_j <- decay2 theta2_j - gamma grad2_j.
                blocking.run(inline: inline) { b in
                    let r = blocking.range(b)
                    let j0 = r.lowerBound, mb = r.count
                    if mb == 0 { return }
                    let gb = grad2 + j0, tb = t2 + j0
                    for j in 0..<mb { gb[j] = 0 }
                    for i in 0..<n {
                        let zi = z + i * m + j0, gi = g[i]
                        if !both {
                            for j in 0..<mb { gb[j] += gi * zi[j] }
                        } else if isReLU {
                            // Branch-free sigma'(z) = 1(z > 0) from s = max(z, 0) >= 0: s > 0 iff bits - 1 < bits(+inf)
                            // (0 and -0 map to 0); a mispredicted branch per entry costs more than the whole pass.
                            for j in 0..<mb {
                                let s = zi[j]
                                gb[j] += gi * s
                                let on: UInt64 = (s.bitPattern &- 1) < 0x7FF0_0000_0000_0000 ? ~0 : 0
                                zi[j] = Double(bitPattern: (gi * tb[j]).bitPattern & on)
                            }
                        } else {
                            let si = slopes! + i * m + j0
                            for j in 0..<mb {
                                gb[j] += gi * zi[j]
                                zi[j] = gi * tb[j] * si[j]
                            }
                        }
                    }
                    if both {
                        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(mb), Int32(dd), Int32(n), -gamma * inputScale,
                                    z + j0, Int32(m), x, Int32(dd), decay1, t1 + j0 * dd, Int32(dd))
                    }
                    for j in 0..<mb { tb[j] = decay2 * tb[j] - gamma * gb[j] }
                }
            }
        }
        guard risk.isFinite else {
            throw OverparamError.diverged("particle SGD: non-finite batch risk at step \(stepsTaken); lower the step size gamma = \(gamma)")
        }
        if temperature > 0 {
            let sd = (2 * temperature * gamma).squareRoot()
            let count = m + (both ? theta1.count : 0)
            withUnsafeTemporaryAllocation(of: Double.self, capacity: count) { xi in
                noiseRNG.fillZigguratNormals(xi.baseAddress!, count: count, scale: sd)
                for j in 0..<m { theta2[j] += xi[j] }
                if both { for q in 0..<theta1.count { theta1[q] += xi[m + q] } }
            }
        }
        stepsTaken += 1
        lastBatchRisk = risk
        return risk
    }
}

/// Fixed blocks of particles (columns of Z): each block's GEMMs and element-wise passes run on one thread, so the
/// arithmetic depends only on (n, m, D), never on the thread count. At least about 4M multiply-adds per block, a power of two
/// of at most 16 blocks (so they split evenly over 2, 4, ... threads), block sizes multiples of 8. The blocks run on
/// ``SpinningWorkers``.
struct ParticleBlocking {
    let width: Int
    let blocks: Int
    let perBlock: Int
    /// `entryCost`: the element-wise work per entry of Z in multiply-add units; blocks hold at least 2^`minimumWorkLog2`
    /// units of n m (D + entryCost) (SGD: 16 and 22; ``SmoothedMarginAscent``: 8 and 20).
    init(rows n: Int, width m: Int, featureDimension dd: Int, entryCost: Int = 16, minimumWorkLog2: Int = 22) {
        width = m
        let work = n * m * (dd + entryCost)
        // A power of two, so the blocks split evenly over 2, 4, ... threads.
        let cap = Swift.max(1, Swift.min(16, Swift.min(work >> minimumWorkLog2, m / 8)))
        var b = 1
        while b * 2 <= cap { b *= 2 }
        perBlock = ((m + b - 1) / b + 7) / 8 * 8
        blocks = Swift.max(1, (m + perBlock - 1) / perBlock)
    }
    func range(_ b: Int) -> Range<Int> { Swift.min(width, b * perBlock)..<Swift.min(width, (b + 1) * perBlock) }
    /// Run every block: on ``SpinningWorkers``, or in order on the calling thread when `inline`.
    func run(inline: Bool = false, _ body: @Sendable (Int) -> Void) {
        if inline {
            for b in 0..<blocks { body(b) }
        } else {
            SpinningWorkers.shared.run(blocks, body)
        }
    }
}

/// Scratch memory of ``ParticleSGD``, allocated once (copied structs get their own on their next step).
final class SGDWorkspace: @unchecked Sendable {
    let rows: Int, width: Int, featureDimension: Int, inputDimension: Int
    /// Batch inputs x~ (rows x D).
    let x: UnsafeMutablePointer<Double>
    /// Targets.
    let y: UnsafeMutablePointer<Double>
    /// Z and P (rows x m).
    let z: UnsafeMutablePointer<Double>
    /// sigma'(Z) for activations other than ReLU.
    let slopes: UnsafeMutablePointer<Double>?
    let h: UnsafeMutablePointer<Double>
    let g: UnsafeMutablePointer<Double>
    /// Per-block partial outputs (16 x rows).
    let hpart: UnsafeMutablePointer<Double>
    /// theta2's batch gradient (m).
    let grad2: UnsafeMutablePointer<Double>
    /// Raw samples (rows x d) and targets, as the distribution writes them.
    var raw: Matrix
    var yArray: [Double]

    init(rows: Int, width: Int, featureDimension: Int, inputDimension: Int, needsSlopes: Bool) {
        self.rows = rows; self.width = width; self.featureDimension = featureDimension; self.inputDimension = inputDimension
        func alloc(_ n: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, n))
            p.initialize(repeating: 0, count: Swift.max(1, n))
            return p
        }
        x = alloc(rows * featureDimension)
        y = alloc(rows)
        z = alloc(rows * width)
        slopes = needsSlopes ? alloc(rows * width) : nil
        h = alloc(rows)
        g = alloc(rows)
        hpart = alloc(16 * rows)
        grad2 = alloc(width)
        raw = Matrix(rows: rows, cols: inputDimension)
        yArray = [Double](repeating: 0, count: rows)
    }

    deinit {
        x.deallocate(); y.deallocate(); z.deallocate(); slopes?.deallocate(); h.deallocate(); g.deallocate()
        hpart.deallocate(); grad2.deallocate()
    }

    /// Copy raw rows (leading dimension d) into x~, prepending the bias coordinate.
    func loadRaw(rows n: Int, from src: UnsafePointer<Double>, bias: Bool) {
        let d = inputDimension, dd = featureDimension
        if bias {
            for i in 0..<n {
                x[i * dd] = 1
                for c in 0..<d { x[i * dd + 1 + c] = src[i * d + c] }
            }
        } else {
            x.update(from: src, count: n * d)
        }
    }

    /// Move the distribution's samples (``raw``, ``yArray``) into the batch buffers.
    func commitSample(rows n: Int, bias: Bool) {
        raw.storage.withUnsafeBufferPointer { loadRaw(rows: n, from: $0.baseAddress!, bias: bias) }
        yArray.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: n) }
    }
}
