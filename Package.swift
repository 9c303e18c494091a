// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Overparam",
    products: [
        .library(name: "Overparam", targets: ["Overparam", "OverparamExperiments"]),
        .executable(name: "overparam", targets: ["OverparamCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CSupport", path: "Sources/CSupport"),
        .target(
            name: "Overparam",
            dependencies: ["CBLAS", "CLAPACKE", "CZlib", "CSupport"],
            resources: [.copy("Resources/digits.csv.gz"), .copy("Resources/mnist-5k.csv.gz")],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "OverparamExperiments",
            dependencies: ["Overparam", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "OverparamCLI",
            dependencies: ["Overparam", "OverparamExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/overparam"
        ),
        .testTarget(name: "OverparamTests", dependencies: ["Overparam", "OverparamExperiments", .product(name: "TOMLKit", package: "TOMLKit")]),
    ],
    swiftLanguageModes: [.v6]
)
