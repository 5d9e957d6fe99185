// swift-tools-version:6.0
import PackageDescription

/// Osiris: conversational ETL built like a compiler.
///
/// Layout (DESIGN.md §2): thin executables under `Sources/<tool>/`, one library target per folder of
/// `Sources/Shared/`, and one system-library target per C library.
let package = Package(
    name: "osiris",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "oml-lint", targets: ["oml-lint"]),
        .executable(name: "oml-compile", targets: ["oml-compile"]),
        .executable(name: "osiris-exec", targets: ["osiris-exec"]),
        .executable(name: "osiris-discover", targets: ["osiris-discover"]),
        .executable(name: "osiris-chat", targets: ["osiris-chat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // System libraries: a module map and a shim header each.
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Headers only: libcrypto is looked up at the first SHA-256 rather than linked (see its shim).
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),

        // Libraries, bottom up.
        .target(
            name: "OsirisCore", dependencies: ["CCrypto"],
            path: "Sources/Shared/OsirisCore"),
        .target(name: "OsirisYAML", dependencies: ["OsirisCore", "CLibYAML"], path: "Sources/Shared/OsirisYAML"),
        .target(name: "OML", dependencies: ["OsirisCore", "OsirisYAML"], path: "Sources/Shared/OML"),
        .target(name: "OMLLint", dependencies: ["OsirisCore", "OsirisYAML", "OML"], path: "Sources/Shared/OMLLint"),
        .target(name: "OMLCompiler", dependencies: ["OsirisCore", "OsirisYAML", "OML", "OMLLint"], path: "Sources/Shared/OMLCompiler"),
        .target(name: "OsirisData", dependencies: ["OsirisCore"], path: "Sources/Shared/OsirisData"),
        .target(
            name: "OsirisDrivers", dependencies: ["OsirisCore", "OsirisData", "OML", "CSQLite3", "CLibPQ", "CMariaDB"],
            path: "Sources/Shared/OsirisDrivers"),
        .target(name: "OsirisHTTP", dependencies: ["OsirisCore", "CCurl"], path: "Sources/Shared/OsirisHTTP"),
        .target(
            name: "OsirisRunner", dependencies: ["OsirisCore", "OsirisData", "OsirisDrivers", "OML", "OsirisHTTP"],
            path: "Sources/Shared/OsirisRunner"),
        .target(
            name: "OsirisDiscovery", dependencies: ["OsirisCore", "OML", "OsirisDrivers"],
            path: "Sources/Shared/OsirisDiscovery"),
        .target(
            name: "OsirisChat",
            dependencies: ["OsirisCore", "OsirisYAML", "OML", "OMLLint", "OMLCompiler", "OsirisDrivers", "OsirisDiscovery", "OsirisHTTP"],
            path: "Sources/Shared/OsirisChat"),
        .target(
            name: "OsirisCLI",
            dependencies: ["OsirisCore", "OML", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Shared/OsirisCLI"
        ),

        // Tools: parse flags, call a library, map the result to an exit status.
        // oml-lint and oml-compile read only local files and start once per file in hooks and make:
        // their release builds are position-dependent, which saves the 39,000 relocations a PIE
        // applies at every start, and oml-lint is a static executable, which also saves loading and
        // binding five shared libraries (see scripts/build-release). The network-facing tools keep PIE.
        .executableTarget(
            name: "oml-lint",
            dependencies: ["OsirisCLI", "OsirisCore", "OML", "OMLLint",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]
        ),

        .executableTarget(
            name: "oml-compile",
            dependencies: ["OsirisCLI", "OsirisCore", "OML", "OMLLint", "OMLCompiler",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie"], .when(configuration: .release))]
        ),

        .executableTarget(
            name: "osiris-exec",
            dependencies: ["OsirisCLI", "OsirisCore", "OML", "OsirisDrivers", "OsirisRunner",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        .executableTarget(
            name: "osiris-discover",
            dependencies: ["OsirisCLI", "OsirisCore", "OsirisDrivers", "OsirisDiscovery",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        .executableTarget(
            name: "osiris-chat",
            dependencies: ["OsirisCLI", "OsirisCore", "OML", "OsirisChat",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // The seeded fuzzing harness of `make faults` (bench/faults/run); built, never installed.
        .executableTarget(
            name: "osiris-fuzz", dependencies: ["OsirisCore", "OML", "OMLCompiler", "OsirisDrivers"]),

        // A loopback HTTP server for the fakes of remote services (model endpoints, E2B).
        .target(name: "LoopbackHTTP", path: "Tests/LoopbackHTTP"),
        // script(1) pseudo-terminals for the tests of terminal behaviour.
        .target(name: "PseudoTerminal", path: "Tests/PseudoTerminal"),

        // Tests mirror the libraries; CLITests runs the built tools against golden cases.
        .testTarget(name: "OsirisCoreTests", dependencies: ["OsirisCore"]),
        .testTarget(name: "OsirisYAMLTests", dependencies: ["OsirisYAML", "OsirisCore"]),
        .testTarget(name: "OMLTests", dependencies: ["OML", "OsirisYAML", "OsirisCore"]),
        .testTarget(name: "OMLLintTests", dependencies: ["OMLLint", "OML", "OsirisCore"]),
        .testTarget(name: "OMLCompilerTests", dependencies: ["OMLCompiler", "OML", "OsirisCore", "OsirisYAML"]),
        .testTarget(name: "OsirisDataTests", dependencies: ["OsirisData", "OsirisCore"]),
        .testTarget(name: "OsirisDriversTests", dependencies: ["CSQLite3", "OsirisDrivers", "OsirisData", "OsirisCore", "OML"]),
        .testTarget(name: "OsirisRunnerTests", dependencies: ["OsirisRunner", "OsirisDrivers", "OsirisData", "OsirisCore", "OML"]),
        .testTarget(
            name: "OsirisDiscoveryTests", dependencies: ["OsirisDiscovery", "OsirisDrivers", "OsirisCore", "OML"], exclude: ["Goldens"]),
        .testTarget(
            name: "OsirisChatTests",
            dependencies: ["OsirisChat", "OsirisHTTP", "LoopbackHTTP", "PseudoTerminal", "OsirisDiscovery", "OsirisDrivers", "OML", "OMLLint", "OsirisCore", "osiris-chat"]),
        .testTarget(name: "CLITests", dependencies: ["LoopbackHTTP", "PseudoTerminal", "oml-lint", "oml-compile", "osiris-exec", "osiris-discover", "osiris-chat", "osiris-fuzz"]),
    ],
    swiftLanguageModes: [.v6]
)
