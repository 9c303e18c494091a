import Foundation
import Overparam

/// The experiments `overparam reproduce` knows, in listing order.
public struct ExperimentRegistry: Sendable {
    public let experiments: [AnyExperiment]

    public init(_ experiments: [AnyExperiment]) { self.experiments = experiments }

    /// Every registered experiment of Overparam.
    public static let standard = ExperimentRegistry([
        AnyExperiment(KernelConvergenceExperiment()),
        AnyExperiment(KernelGalleryExperiment()),
        AnyExperiment(DigitsKernelExperiment()),
        AnyExperiment(AlphaSweepExperiment()),
        AnyExperiment(WidthSweepExperiment()),
        AnyExperiment(LinearizationExperiment()),
        AnyExperiment(BreakingNTKExperiment()),
        AnyExperiment(KernelVelocityExperiment()),
        AnyExperiment(MinNormExperiment()),
        AnyExperiment(JacobianRankExperiment()),
        AnyExperiment(HessianScaleExperiment()),
        AnyExperiment(LazyDistanceExperiment()),
        AnyExperiment(LearningRateScalingExperiment()),
        AnyExperiment(LinearRateExperiment()),
        AnyExperiment(KernelDriftExperiment()),
        AnyExperiment(InitialScalingExperiment()),
        AnyExperiment(TruncationExperiment()),
        AnyExperiment(HierarchyConvergenceExperiment()),
        AnyExperiment(HierarchyVersusKernelExperiment()),
        AnyExperiment(DiscreteStepExperiment()),
        AnyExperiment(DeepLinearNormExperiment()),
        AnyExperiment(DepthAsymptoticsExperiment()),
        AnyExperiment(FourthCumulantExperiment()),
        AnyExperiment(CollectiveMomentsExperiment()),
        AnyExperiment(PerturbativeExperiment()),
        AnyExperiment(GaussianProcessLimitExperiment()),
        AnyExperiment(LinearRegionsExperiment()),
        AnyExperiment(HatFunctionExperiment()),
        AnyExperiment(ImplicitBiasBoundariesExperiment()),
        AnyExperiment(ImplicitBiasTestErrorExperiment()),
        AnyExperiment(ImplicitBiasRKHSLimitExperiment()),
        AnyExperiment(TeacherTwoDimensionalExperiment()),
        AnyExperiment(SuccessRateExperiment()),
        AnyExperiment(SigmoidTeacherExperiment()),
        AnyExperiment(MeanFieldOptimalityExperiment()),
        AnyExperiment(FeaturePruningExperiment()),
        AnyExperiment(FeatureDiscretizationExperiment()),
        AnyExperiment(FeatureWeightsExperiment()),
        AnyExperiment(FeatureRepopulationExperiment()),
        AnyExperiment(FeatureTangentSpaceExperiment()),
        // Issue #14 (seed 002): convex formulation of deep networks.
        AnyExperiment(ConvexOptimalityExperiment()),
        AnyExperiment(ConvexDepthExperiment()),
        AnyExperiment(ConvexFeaturesExperiment()),
        AnyExperiment(ConvexSparsityExperiment()),
        AnyExperiment(ConvexProgramExperiment()),
        AnyExperiment(ConvexDiscretizationExperiment()),
        AnyExperiment(ConvexLandscapeExperiment()),
        AnyExperiment(ConvexClassificationExperiment()),
    ])

    public var ids: [String] { experiments.map { $0.id } }

    /// The experiment with this id (an error names the id and how to list them).
    public func experiment(_ id: String) throws -> AnyExperiment {
        guard let e = experiments.first(where: { $0.id == id }) else {
            throw OverparamError.invalidArgument(name: id, problem: "unknown experiment id; run `overparam reproduce --list` for the ids")
        }
        return e
    }
}
