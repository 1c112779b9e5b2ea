// swift-tools-version:6.0
// Herald: drive, simulate, network and calibrate quantum-networking labs.
// Layers and boundaries: ../shared/DESIGN.md. A module imports only modules below it.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Physics and calibration code runs millions of model evaluations in the statistical tests;
/// it is compiled optimised in debug builds too, so that `swift test` stays minutes, not hours.
let optimisedPhysics: [SwiftSetting] = strict + [.unsafeFlags(["-O"])]

let package = Package(
    name: "Herald",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Herald", targets: ["Herald"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        .executable(name: "herald", targets: ["HeraldCLI"]),
        .executable(name: "herald-bench", targets: ["HeraldBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries, one C include each; every call into them lives in one Swift module.
        .systemLibrary(
            name: "CLibUSB", path: "Sources/CLibUSB", pkgConfig: "libusb-1.0",
            providers: [.apt(["libusb-1.0-0-dev"])]),
        // libzmq's pkg-config file adds krb5 include flags that SwiftPM prohibits (a warning on
        // every build); zmq.h is in the default include path, so the module map links it alone.
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ"),

        .target(
            name: "HeraldCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .target(name: "HeraldIO", dependencies: ["HeraldCore", "CLibUSB"], swiftSettings: strict),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: strict),
        .target(name: "HeraldSimulation", dependencies: ["HeraldCore"], swiftSettings: optimisedPhysics),
        .target(name: "HeraldAnalysis", dependencies: ["HeraldCore"], swiftSettings: strict),
        .target(
            name: "HeraldControl", dependencies: ["HeraldCore", "ZeroMQ"], swiftSettings: strict),
        .target(
            name: "HeraldDrivers",
            dependencies: ["HeraldCore", "HeraldIO", "HeraldSimulation", "HeraldAnalysis"],
            path: "Drivers",
            swiftSettings: strict),
        .target(
            name: "HeraldCalibration",
            dependencies: [
                "HeraldCore", "HeraldAnalysis", "HeraldSimulation", "HeraldControl", "HeraldDrivers",
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Calibration/Routines",
            swiftSettings: optimisedPhysics),
        .target(
            name: "Herald",
            dependencies: [
                "HeraldCore", "HeraldIO", "HeraldSimulation", "HeraldAnalysis", "HeraldControl",
                "HeraldDrivers", "HeraldCalibration",
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "HeraldCLI",
            dependencies: [
                "Herald", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "HeraldBench",
            dependencies: [
                "Herald", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks",
            swiftSettings: strict),

        .testTarget(name: "HeraldCoreTests", dependencies: ["HeraldCore"], swiftSettings: strict),
        .testTarget(name: "HeraldIOTests", dependencies: ["HeraldIO"], swiftSettings: strict),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"], swiftSettings: strict),
        .testTarget(
            name: "HeraldSimulationTests", dependencies: ["HeraldSimulation"],
            swiftSettings: strict),
        .testTarget(
            name: "HeraldAnalysisTests", dependencies: ["HeraldAnalysis"], swiftSettings: strict),
        .testTarget(
            name: "HeraldControlTests", dependencies: ["HeraldControl"], swiftSettings: strict),
        .testTarget(
            name: "HeraldDriversTests", dependencies: ["HeraldDrivers"], swiftSettings: strict),
        .testTarget(
            name: "HeraldCalibrationTests", dependencies: ["HeraldCalibration"],
            swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests", dependencies: ["HeraldCore", "HeraldControl", "ZeroMQ"], swiftSettings: strict),
    ]
)
