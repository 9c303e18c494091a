import Foundation

/// A variational autoencoder (Kingma-Welling) with Gaussian encoder and decoder: the seed's generative model of the
/// neuron distribution rho (seed 000 sec. VI, figs. 8-10: learn rho* from the first-layer weights of trained nets, then
/// "repopulate" random features with samples from it).
///
/// Inputs are standardized internally, x~ = (x - mean) / scale per coordinate (training statistics of the first
/// ``train(_:epochs:batchSize:learningRate:seed:)``; a constant coordinate gets scale 1). In those coordinates:
///
///     encoder    x~ -> (mu(x~), log sigma^2(x~)) in R^l x R^l,          q(z | x~) = N(mu, diag sigma^2)
///     decoder    z -> m(z) in R^d,  p(x~ | z) = N(m(z), diag v),  v_i = e^{s_i} + c_i,  s in R^d a learned vector
///     prior      p(z) = N(0, I_l)
///     -ELBO(x~)  = (1/2) sum_i [log 2 pi + log v_i + (x~_i - m_i(z))^2 / v_i] + (1/2) sum_j [mu_j^2 + sigma_j^2 - 1 - log sigma_j^2],
///                  z = mu + sigma .* eps,  eps ~ N(0, I_l)   (one reparameterized sample, the KL term in closed form).
///
/// Encoder and decoder are ``Network``s (standard parameterization, C_W = 1, biases initialized to 0, the given
/// activation); training is minibatch ``Adam`` on the mean -ELBO with gradients by backpropagation through the decoder
/// (``Network/deltas(_:outputCotangent:)`` gives dL/dz), the reparameterization and the encoder. Every density this type
/// reports is in the ORIGINAL coordinates: log p(x) = log p~(x~) - sum_i log scale_i.
///
/// The floor c_i = ``covarianceFloor`` / scale_i^2 is the decoder variance's lower bound, the same absolute floor in
/// original coordinates as ``GaussianMixture``'s (scikit-learn's reg_covar). Without it a coordinate the decoder fits
/// almost exactly (e.g. the weight of an always-blank pixel, nearly constant over the training neurons) drives
/// s_i -> -inf: the training ELBO grows without bound while held-out log-likelihoods collapse (we measured -4.5e24 nats
/// on width-1000 digits neurons).
public struct VariationalAutoencoder: Sendable {
    /// d.
    public let inputDimension: Int
    /// l.
    public let latentDimension: Int
    /// x~ -> (mu, log sigma^2): d -> 2l (outputs 0..<l are mu).
    public private(set) var encoder: Network
    /// z -> m(z): l -> d.
    public private(set) var decoder: Network
    /// s: the decoder variances are e^{s_i} + c_i in standardized coordinates (d entries, initially 0).
    public private(set) var decoderLogVariance: [Double]
    /// The standardization x~ = (x - inputMean) / inputScale (0 and 1 until the first training).
    public private(set) var inputMean: [Double]
    /// The per-coordinate scale of the standardization (population std of the training samples; 1 if constant).
    public private(set) var inputScale: [Double]
    /// Whether the standardization has been fixed by a first training call.
    public private(set) var isStandardized = false
    /// The absolute floor added to every decoder variance in original coordinates (c_i = floor / scale_i^2).
    public let covarianceFloor: Double

    /// An untrained VAE with hidden layers `hiddenWidths` in both encoder and decoder (the decoder's in reverse order);
    /// encoder and decoder weights from independent seeds derived from `seed`.
    ///
    /// Throws on a negative or non-finite `covarianceFloor`.
    public init(inputDimension d: Int, latentDimension l: Int, hiddenWidths: [Int], activation: Activation = .tanh,
                covarianceFloor: Double = 1e-6, seed: UInt64) throws {
        try Check.atLeast(d, 1, "inputDimension")
        guard covarianceFloor.isFinite, covarianceFloor >= 0 else {
            throw OverparamError.invalidArgument(name: "covarianceFloor", problem: "must be finite and >= 0, got \(covarianceFloor)")
        }
        self.covarianceFloor = covarianceFloor
        try Check.atLeast(l, 1, "latentDimension")
        guard !hiddenWidths.isEmpty, hiddenWidths.allSatisfy({ $0 >= 1 }) else {
            throw OverparamError.invalidArgument(name: "hiddenWidths", problem: "need at least one hidden layer, each of width >= 1, got \(hiddenWidths)")
        }
        func arch(_ input: Int, _ widths: [Int], _ output: Int) -> Architecture {
            Architecture(inputDimension: input, hiddenWidths: widths, activation: activation, outputDimension: output, weightVariance: 1,
                         biasVariance: 0, hasBias: true, parameterization: .standard)
        }
        var mix = SplitMix64(state: seed)
        encoder = try Network(arch(d, hiddenWidths, 2 * l), seed: mix.next())
        decoder = try Network(arch(l, hiddenWidths.reversed(), d), seed: mix.next())
        inputDimension = d
        latentDimension = l
        decoderLogVariance = [Double](repeating: 0, count: d)
        inputMean = [Double](repeating: 0, count: d)
        inputScale = [Double](repeating: 1, count: d)
    }

    /// One hidden layer of `hiddenWidth` units in encoder and decoder.
    public init(inputDimension d: Int, latentDimension l: Int, hiddenWidth: Int, activation: Activation = .tanh,
                covarianceFloor: Double = 1e-6, seed: UInt64) throws {
        try self.init(inputDimension: d, latentDimension: l, hiddenWidths: [hiddenWidth], activation: activation,
                      covarianceFloor: covarianceFloor, seed: seed)
    }

    /// The decoder variances v_i = e^{s_i} + covarianceFloor / scale_i^2 (standardized coordinates) for log-variances `s`.
    func decoderVariances(_ s: [Double]) -> [Double] {
        zip(s, inputScale).map { Foundation.exp($0) + covarianceFloor / ($1 * $1) }
    }

    /// sum_i log scale_i, the log-Jacobian between original and standardized densities.
    public var logJacobian: Double { inputScale.reduce(0) { $0 + Foundation.log($1) } }

    /// The flat trainable parameters [encoder, decoder, s].
    var parameters: [Double] { encoder.parameters + decoder.parameters + decoderLogVariance }

    mutating func setParameters(_ theta: [Double]) {
        let pe = encoder.parameters.count, pd = decoder.parameters.count
        encoder.parameters = Array(theta[0..<pe])
        decoder.parameters = Array(theta[pe..<(pe + pd)])
        decoderLogVariance = Array(theta[(pe + pd)...])
    }

    func standardized(_ x: Matrix) throws -> Matrix {
        guard x.cols == inputDimension else { throw OverparamError.shapeMismatch("samples have \(x.cols) columns, the VAE expects d = \(inputDimension)") }
        try Check.finite(x, "samples")
        var out = x
        for i in 0..<x.rows { for j in 0..<x.cols { out.storage[i * x.cols + j] = (x.storage[i * x.cols + j] - inputMean[j]) / inputScale[j] } }
        return out
    }

    // MARK: Training

    /// Minibatch Adam (learning rate `learningRate`, default betas) on the mean -ELBO; batches are seeded permutations
    /// (stream 0x4D424154 of `seed`), the noise eps comes from stream 1. The first call fixes the standardization from
    /// `samples`. Returns the mean -ELBO per epoch in original coordinates (the average of the minibatch values over
    /// the epoch, + ``logJacobian``).
    @discardableResult
    public mutating func train(_ samples: Matrix, epochs: Int, batchSize: Int, learningRate: Double, seed: UInt64) throws -> [Double] {
        try Check.data(samples, "samples")
        try Check.schedule(epochs: epochs, batchSize: batchSize)
        guard learningRate.isFinite, learningRate > 0 else { throw OverparamError.invalidArgument(name: "learningRate", problem: "must be finite and > 0, got \(learningRate)") }
        guard samples.cols == inputDimension else { throw OverparamError.shapeMismatch("samples have \(samples.cols) columns, the VAE expects d = \(inputDimension)") }
        if !isStandardized {
            let n = Double(samples.rows)
            inputMean = samples.columnSums.map { $0 / n }
            var sq = [Double](repeating: 0, count: inputDimension)
            for i in 0..<samples.rows { for j in 0..<inputDimension { let e = samples[i, j] - inputMean[j]; sq[j] += e * e } }
            inputScale = sq.map { let s = ($0 / n).squareRoot(); return s > 0 && s.isFinite ? s : 1 }
            isStandardized = true
        }
        let xs = try standardized(samples)
        var adam = Adam(learningRate: learningRate)
        var theta = parameters
        var batches = MiniBatches(count: xs.rows, batchSize: batchSize, seed: seed)
        var noise = Xoshiro256StarStar(seed: seed, stream: 1)
        var losses = [Double]()
        for epoch in 0..<epochs {
            var total = 0.0
            for batch in batches.nextEpoch() {
                let eps = Matrix.randomNormal(rows: batch.count, cols: latentDimension, using: &noise)
                let (v, g) = try negativeELBO(theta, standardized: xs.rows(at: batch), noise: eps)
                guard v.isFinite else {
                    throw OverparamError.diverged("VAE: the negative ELBO became \(v) in epoch \(epoch + 1); lower the learning rate")
                }
                total += v * Double(batch.count)
                adam.step(&theta, gradient: g)
            }
            losses.append(total / Double(xs.rows) + logJacobian)
        }
        setParameters(theta)
        return losses
    }

    /// The mean -ELBO over the rows of standardized `xs` with the given noise eps (n x l), and its gradient in the flat
    /// parameters [encoder, decoder, s] (for training and the finite-difference test).
    func negativeELBO(_ theta: [Double], standardized xs: Matrix, noise eps: Matrix) throws -> (value: Double, gradient: [Double]) {
        var vae = self
        vae.setParameters(theta)
        let n = xs.rows, d = inputDimension, l = latentDimension
        let invN = 1 / Double(n)
        let encoded = try vae.encoder.forward(xs)
        let (mu, lv) = Self.split(encoded.outputs, l)
        let z = Self.reparameterize(mu, lv, eps)
        let decoded = try vae.decoder.forward(z)
        let mean = decoded.outputs
        let v = vae.decoderVariances(vae.decoderLogVariance)
        let logVar = v.map { Foundation.log($0) }
        let invVar = v.map { 1 / $0 }
        let dVdS = zip(vae.decoderLogVariance, v).map { Foundation.exp($0) / $1 }   // d log v_i / d s_i
        var value = 0.0
        var gMean = Matrix(rows: n, cols: d)
        var gS = [Double](repeating: 0, count: d)
        let log2pi = Foundation.log(2 * Double.pi)
        for i in 0..<n {
            for j in 0..<d {
                let r = xs.storage[i * d + j] - mean.storage[i * d + j]
                let w = r * r * invVar[j]
                value += 0.5 * (log2pi + logVar[j] + w)
                gMean.storage[i * d + j] = -r * invVar[j] * invN
                gS[j] += 0.5 * (1 - w) * dVdS[j] * invN
            }
        }
        var gOut = Matrix(rows: n, cols: 2 * l)
        let back = vae.decoder.deltas(decoded, outputCotangent: gMean)[0]
        let dz = Matrix.product(back, .none, vae.decoder.weight(layer: 1), .none, alpha: vae.decoder.scales[0].a)
        for i in 0..<n {
            for j in 0..<l {
                let m = mu.storage[i * l + j], v = lv.storage[i * l + j], e = Foundation.exp(v)
                value += 0.5 * (m * m + e - 1 - v)
                let g = dz.storage[i * l + j]
                gOut.storage[i * 2 * l + j] = g + m * invN
                gOut.storage[i * 2 * l + l + j] = g * eps.storage[i * l + j] * 0.5 * Foundation.exp(0.5 * v) + 0.5 * (e - 1) * invN
            }
        }
        let gradient = vae.encoder.gradient(encoded, outputCotangent: gOut) + vae.decoder.gradient(decoded, outputCotangent: gMean) + gS
        return (value * invN, gradient)
    }

    /// z = mu + exp(log sigma^2 / 2) .* eps.
    static func reparameterize(_ mu: Matrix, _ logVariance: Matrix, _ eps: Matrix) -> Matrix {
        var z = mu
        for i in 0..<z.count { z.storage[i] += Foundation.exp(0.5 * logVariance.storage[i]) * eps.storage[i] }
        return z
    }

    static func split(_ out: Matrix, _ l: Int) -> (mu: Matrix, logVariance: Matrix) {
        (out.columns(Array(0..<l)), out.columns(Array(l..<(2 * l))))
    }

    // MARK: Densities

    /// log N(x~_i; m(z_i), diag v) for every row.
    func decoderLogLikelihood(_ xs: Matrix, latent z: Matrix) throws -> [Double] {
        let mean = try decoder(z)
        let d = inputDimension
        let v = decoderVariances(decoderLogVariance)
        let constant = Double(d) * Foundation.log(2 * Double.pi) + v.reduce(0) { $0 + Foundation.log($1) }
        let invVar = v.map { 1 / $0 }
        return (0..<xs.rows).map { i in
            var q = 0.0
            for j in 0..<d { let r = xs.storage[i * d + j] - mean.storage[i * d + j]; q += r * r * invVar[j] }
            return -0.5 * (constant + q)
        }
    }

    /// The ELBO of every row in original coordinates, E_q[log p(x~ | z)] - KL(q || p) - sum log scale, with the expectation
    /// estimated by one sample z = mu + sigma eps (eps from stream 0 of `seed`) and the KL in closed form.
    public func elbo(_ x: Matrix, seed: UInt64) throws -> [Double] {
        let xs = try standardized(x)
        let (mu, lv) = Self.split(try encoder(xs), latentDimension)
        var rng = Xoshiro256StarStar(seed: seed, stream: 0)
        let eps = Matrix.randomNormal(rows: x.rows, cols: latentDimension, using: &rng)
        let z = Self.reparameterize(mu, lv, eps)
        let rec = try decoderLogLikelihood(xs, latent: z)
        let l = latentDimension, jac = logJacobian
        return (0..<x.rows).map { i in
            var kl = 0.0
            for j in 0..<l { let m = mu.storage[i * l + j], v = lv.storage[i * l + j]; kl += 0.5 * (m * m + Foundation.exp(v) - 1 - v) }
            return rec[i] - kl - jac
        }
    }

    /// The importance-weighted bound (Burda et al.) on log p(x) for every row, in original coordinates:
    ///
    ///     log (1/K) sum_{k<=K} p(x~ | z_k) p(z_k) / q(z_k | x~) - sum log scale,   z_k = mu + sigma eps_k,
    ///
    /// eps_k from stream k of `seed`. In expectation it is a lower bound that increases with K to log p(x) (K = 1 is
    /// the ELBO with a sampled KL term).
    public func importanceWeightedLogLikelihood(_ x: Matrix, samples k: Int, seed: UInt64) throws -> [Double] {
        try Check.atLeast(k, 1, "samples")
        let xs = try standardized(x)
        let n = x.rows, l = latentDimension
        let (mu, lv) = Self.split(try encoder(xs), l)
        var logWeights = Matrix(rows: n, cols: k)
        let log2pi = Foundation.log(2 * Double.pi)
        for s in 0..<k {
            var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(s + 1))
            let eps = Matrix.randomNormal(rows: n, cols: l, using: &rng)
            let z = Self.reparameterize(mu, lv, eps)
            let rec = try decoderLogLikelihood(xs, latent: z)
            for i in 0..<n {
                var prior = 0.0, posterior = 0.0
                for j in 0..<l {
                    let zz = z.storage[i * l + j], e = eps.storage[i * l + j]
                    prior -= 0.5 * (log2pi + zz * zz)
                    posterior -= 0.5 * (log2pi + lv.storage[i * l + j] + e * e)
                }
                logWeights[i, s] = rec[i] + prior - posterior
            }
        }
        let logK = Foundation.log(Double(k)), jac = logJacobian
        return GaussianMixture.logSumExpRows(logWeights).map { $0 - logK - jac }
    }

    // MARK: Sampling

    /// `count` samples of the model in original coordinates: z ~ N(0, I_l) (stream 1 of `seed`), x~ = m(z) +
    /// v^{1/2} .* xi with xi ~ N(0, I_d) (stream 2), x = mean + scale .* x~.
    public func sample(count: Int, seed: UInt64) throws -> Matrix { try draw(count: count, seed: seed, noise: true) }

    /// The decoder means m(z) for z ~ N(0, I_l) (stream 1 of `seed`), in original coordinates (no decoder noise).
    public func sampleMeans(count: Int, seed: UInt64) throws -> Matrix { try draw(count: count, seed: seed, noise: false) }

    func draw(count: Int, seed: UInt64, noise: Bool) throws -> Matrix {
        try Check.atLeast(count, 1, "count")
        var rz = Xoshiro256StarStar(seed: seed, stream: 1)
        var x = try decoder(Matrix.randomNormal(rows: count, cols: latentDimension, using: &rz))
        var rx = Xoshiro256StarStar(seed: seed, stream: 2)
        let d = inputDimension
        let sd = decoderVariances(decoderLogVariance).map { $0.squareRoot() }
        for i in 0..<count {
            for j in 0..<d {
                let v = x.storage[i * d + j] + (noise ? sd[j] * rx.normal() : 0)
                x.storage[i * d + j] = inputMean[j] + inputScale[j] * v
            }
        }
        return x
    }
}
