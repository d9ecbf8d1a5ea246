import UnixSignals
import ArgumentParser
import Cryptography
import Foundation
import Hummingbird
import Logging
import Portal
import ServiceLifecycle

/// `metalplane controller`: the control plane's HTTP API, OIDC realms and background loops.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the controller: REST API, per-realm OIDC, health and metrics.",
        discussion: """
            Settings come from flags, then METALPLANE_* environment variables, then the YAML file, then defaults.
            Environment: \(ControllerConfiguration.keys.map(\.1).joined(separator: ", ")), METALPLANE_CONFIG,
            METALPLANE_BOOTSTRAP_PASSWORD (the super-admin's first password; generated into the data directory if unset).
            SIGTERM or SIGINT shut down gracefully: in-flight requests finish, then the store closes.
            """)

    @Option(help: "YAML configuration file (or METALPLANE_CONFIG).")
    var config: String?

    @Option(name: .customLong("data-dir"), help: "Directory for the database and generated secrets (default ./data).")
    var dataDir: String?

    @Option(help: "The store: sqlite (the default, a file in --data-dir) or postgresql://user:password@host[:port][,host[:port]…]/database.")
    var store: String?

    @Option(help: "HOST:PORT to listen on (default 127.0.0.1:8080).")
    var listen: String?

    @Option(name: .customLong("public-url"), help: "URL clients use to reach this controller; realm issuers derive from it.")
    var publicURL: String?

    @Option(name: .customLong("tls-certificate"), help: "PEM certificate chain: with --tls-key, serve HTTPS.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-certificate.")
    var tlsKey: String?

    @Option(name: .customLong("log-format"), help: "text (stderr) or json (one object per line on stdout).")
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func run() async throws {
        OpenSSLProcess.keepStateUntilExit()
        let environment = ProcessInfo.processInfo.environment
        let settings = try ControllerSettings.load(config: config, flags: [("dataDir", dataDir), ("store", store), ("listen", listen), ("publicURL", publicURL), ("tlsCertificate", tlsCertificate), ("tlsKey", tlsKey),
                                                                          ("logFormat", logFormat), ("logLevel", logLevel)],
                                                   environment: environment)
        let logger = LogSetup.logger(format: settings.logFormat, level: settings.logLevel)
        let (host, port) = try settings.listenAddress()
        let publicURL = settings.effectivePublicURL
        let runtime = try await ControllerRuntime.open(settings, environment: environment, logger: logger)
        let app = Application(
            router: runtime.router(),
            server: try runtime.httpServer(),
            configuration: .init(address: .hostname(host, port: port), serverName: "metalplane"),
            onServerRunning: { channel in
                logger.notice("controller listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                                                                 "publicURL": .string(publicURL)])
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: RuntimeService(runtime: runtime))] + runtime.backgroundServices().map { .init(service: $0) }
                + [.init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
