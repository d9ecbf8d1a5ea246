// swift-tools-version:6.1
import PackageDescription

/// Strict settings shared by every Swift target: Swift 6 mode plus the upcoming
/// features style.md asks for.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "metalplane",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "metalplane", targets: ["metalplane"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "5.0.1"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        // The HA store (issue 17): PostgreSQL's wire protocol.
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // Mergeable latency histograms (issue 18): HdrHistogram, so a range's p50/p95 over any nodes are exact to 3 digits.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
    ],
    targets: [
        // System-library shims.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .systemLibrary(name: "CLDAP", path: "Sources/CLDAP"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // Shared kernel.
        .target(name: "Core", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: strict),
        .target(name: "Cryptography", dependencies: ["COpenSSL", "Core"], swiftSettings: strict),
        .target(name: "NodeContract", swiftSettings: strict),
        // The one configuration mechanism of every process: YAML file, then METALPLANE_* variables, then flags.
        .target(name: "Settings", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .target(name: "Storage", dependencies: [
            "CSQLite", "Core",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: strict),

        // Protocol adapters the domain modules drive.
        .target(name: "Redfish", dependencies: ["Core",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: strict),

        .target(name: "ObjectStore", dependencies: ["Core", "Cryptography",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], swiftSettings: strict),

        // Domain modules.
        .target(name: "IAM", dependencies: ["Core", "Cryptography", "Storage", "CLDAP",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: strict),
        .target(name: "NetworkPools", dependencies: ["Core", "Storage"], swiftSettings: strict),
        .target(name: "Backup", dependencies: ["Core", "Cryptography", "Storage", "CZlib", "ObjectStore", "IAM",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .target(name: "Quota", dependencies: ["Core", "Storage"], swiftSettings: strict),
        .target(name: "Provisioner", dependencies: ["Core", "Cryptography", "Storage", "NetworkPools", "Quota", "Redfish", "NodeContract",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        .target(name: "Telemetry", dependencies: ["Core", "Storage", "NodeContract",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ], swiftSettings: strict),
        .target(name: "Scheduler", dependencies: ["Core", "Cryptography", "Storage", "Quota", "NodeContract",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: strict),
        .target(name: "Tenancy", dependencies: ["Core", "Cryptography", "Storage", "IAM", "NetworkPools", "Quota",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: strict),

        // The servers. Gateway is the inference data plane: a channel handler in each HTTP
        // connection's pipeline (NIOHTTPTypes' request and response parts), the keep-alive pool to
        // the engines (NIOPosix), usage, traces and hot-swaps.
        // Fabric: switches, cabling, tenant addresses and the reconciler that programs tenant VRFs and VLANs.
        .target(name: "Fabric", dependencies: [
            "Core", "Cryptography", "Storage", "IAM", "NetworkPools", "Provisioner", "NodeContract",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        .target(name: "Gateway", dependencies: [
            "Core", "Storage", "IAM", "Scheduler", "NodeContract",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict + [
            // The router's hot path is single-threaded per connection (one event loop owns an exchange):
            // the runtime's exclusivity bookkeeping cost 2% of its time in release builds. Debug builds keep the checks.
            .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
        ]),
        // Portal: the REST API, OIDC and the composition root; it hands the gateway's handler to
        // Hummingbird's HTTP/1.1 server (HummingbirdCore's server builder).
        // Server-side SVG charts: the portal's pages and the reports draw the same figures.
        .target(name: "Charts", dependencies: ["Core"], swiftSettings: strict),
        .target(name: "Reports", dependencies: ["Core", "Storage", "Provisioner", "Scheduler", "Telemetry", "Charts"], swiftSettings: strict),
        .target(name: "Portal", dependencies: [
            "Core", "Cryptography", "Storage", "IAM", "NetworkPools", "Quota", "Tenancy", "Provisioner", "Redfish", "Scheduler", "NodeContract", "Backup", "ObjectStore",
            "Gateway", "Settings", "Fabric", "Telemetry", "Charts", "Reports",
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: strict),
        .target(name: "NodeRuntime", dependencies: [
            "Core", "Cryptography", "NodeContract", "Settings",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: strict),

        // The CLI's and the benchmarks' side of the REST API: one HTTP exchange, tokens, stored sign-in.
        .target(name: "ControllerClient", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], swiftSettings: strict),
        // `metalplane bench …`: measurements against real processes and peers, kept out of the executable.
        // TestPeers: the bench runs the same real peers the tests do (slapd, loaded with slapadd).
        .target(name: "Benchmarks", dependencies: [
            "Core", "ControllerClient", "NodeContract", "Scheduler", "Storage", "Telemetry", "TestPeers",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], swiftSettings: strict),

        // The one binary: parses arguments and wires the modules.
        .executableTarget(name: "metalplane", dependencies: [
            "Core", "Cryptography", "Portal", "NodeRuntime", "Backup", "Storage", "ControllerClient", "Benchmarks", "Settings",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),

        // Tests.
        .testTarget(name: "CoreTests", dependencies: ["Core"], swiftSettings: strict),
        .testTarget(name: "CryptographyTests", dependencies: ["Core", "Cryptography"], swiftSettings: strict),
        .testTarget(name: "StorageTests", dependencies: ["Core", "Storage", "TestPeers"], swiftSettings: strict),
        .testTarget(name: "IAMTests", dependencies: ["Core", "Cryptography", "Storage", "IAM", "TestPeers",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: strict),
        .testTarget(name: "PortalTests", dependencies: [
            "Core", "Cryptography", "Storage", "IAM", "NetworkPools", "Quota", "Portal", "Tenancy", "TestPeers", "Redfish", "Settings", "Backup", "Telemetry", "Charts",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "ArchitectureTests", swiftSettings: strict),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "Storage", .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio")], swiftSettings: strict),
        .testTarget(name: "ProvisionerTests", dependencies: ["Provisioner"], swiftSettings: strict),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Provisioner", "Scheduler", "Telemetry", "Core"], swiftSettings: strict),
        .target(name: "TestPeers", dependencies: ["Core", "Storage", .product(name: "Logging", package: "swift-log")], path: "Tests/TestPeers", swiftSettings: strict),
        .testTarget(name: "RedfishTests", dependencies: ["Redfish", "TestPeers", .product(name: "NIOCore", package: "swift-nio")], swiftSettings: strict),
        .testTarget(name: "BackupTests", dependencies: ["Backup", "Core", "Storage", "ObjectStore", "TestPeers"], swiftSettings: strict),
        .testTarget(name: "QuotaTests", dependencies: ["Core", "Quota", "Storage", "TestPeers"], swiftSettings: strict),
        .testTarget(name: "NetworkPoolsTests", dependencies: ["Core", "NetworkPools", "Storage", "TestPeers"], swiftSettings: strict),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "Core", "NodeContract"], swiftSettings: strict),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "Core", "Storage", "NodeContract", "TestPeers"], swiftSettings: strict),
        .testTarget(name: "NodeRuntimeTests", dependencies: [
            "NodeRuntime", "NodeContract", "Core", "Settings",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "SystemTests", dependencies: [
            "TestPeers", "Storage",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: strict),
    ]
)
