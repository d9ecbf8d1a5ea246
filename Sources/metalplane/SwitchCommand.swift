import ArgumentParser
import Core
import Foundation
import Hummingbird
import Logging
import NodeRuntime
import ServiceLifecycle
import UnixSignals

/// `metalplane switch --listen HOST:PORT --token-file FILE`: the agent on a Linux switch, which the
/// controller's `linux` fabric driver programs (docs/tenancy.md).
struct SwitchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch",
        abstract: "Run the Linux switch agent: the controller programs tenant VRFs and VLANs through it (nftables and policy routing; root).",
        discussion: """
            Listens on the switch's management address. GET /v1/state reads the switch back; PUT /v1/config programs it; both want
            the token in --token-file (or METALPLANE_SWITCH_TOKEN) as a bearer token. The controller's switch record holds the same token.
            """)

    @Option(help: "HOST:PORT to listen on (the switch's management address).") var listen = "127.0.0.1:7830"
    @Option(name: .customLong("token-file"), help: "File holding the bearer token the controller presents.") var tokenFile: String?
    @Option(name: .customLong("tenant-network"), help: "The tenant supernet before anything is programmed.") var tenantNetwork = "10.128.0.0/12"
    @Option(name: .customLong("log-format"), help: "text (stderr) or json (stdout).") var logFormat = "text"
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func run() async throws {
        let token = try tokenFile.map { try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? ProcessInfo.processInfo.environment["METALPLANE_SWITCH_TOKEN"]
        guard let token, token.count >= 16 else { throw ValidationError("a token of at least 16 characters is required (--token-file or METALPLANE_SWITCH_TOKEN)") }
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--listen must be HOST:PORT") }
        let logger = LogSetup.logger(format: logFormat, level: logLevel)
        let workers = BlockingWorkPool(threads: 2)
        try await SwitchAgent.closeIfUnprogrammed(tenantNetwork: tenantNetwork, workers: workers, logger: logger)
        let app = Application(router: SwitchAgent.router(token: token, tenantNetwork: tenantNetwork, workers: workers, logger: logger),
                              configuration: .init(address: .hostname(String(parts[0]), port: port), serverName: "metalplane-switch"),
                              onServerRunning: { channel in
                                  logger.notice("switch agent listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                              }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await workers.shutdown()
    }
}
