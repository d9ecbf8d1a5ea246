import Settings
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NodeRuntime
import ServiceLifecycle
import UnixSignals

/// `metalplane node [run] --controller URL --join-token TOKEN`: the node agent.
struct AgentRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the node agent: join the controller (outbound only), stage models, supervise engines, serve the node API.",
        discussion: """
            `metalplane node --controller URL --join-token TOKEN` runs this (run is the default subcommand of node).
            The first join uses the join token; the agent keeps a node credential in --state-dir and rejoins with it after a restart.
            Settings come from flags, then METALPLANE_* variables, then the YAML file (--config; with model_store.staging and
            node_overrides.<hostname> as in the runbook), then defaults.
            Environment: \(AgentConfiguration.keys.map(\.1).joined(separator: ", ")).
            """)

    @Option(help: "The controller's URL (https:// when it serves TLS), or several replicas' URLs separated by commas.") var controller: String?
    @Option(name: .customLong("controller-ca"), help: "PEM CA bundle the controller's certificate must chain to (default: the system's roots).") var controllerCA: String?
    @Option(name: .customLong("join-token"), help: "Join token from `metalplane api POST /api/v1/join-tokens` (first join).") var joinToken: String?
    @Option(name: .customLong("node-name"), help: "The enrolled node this machine is (completes its deploy on join).") var nodeName: String?
    @Option(help: "YAML configuration file.") var config: String?
    @Option(name: .customLong("state-dir"), help: "Agent state: credential, runner logs, event log (default ~/.metalplane).") var stateDir: String?
    @Option(name: .customLong("node-cache-path"), help: "Staging folder (default ~/.metalplane/staging).") var nodeCachePath: String?
    @Option(help: "Node API HOST:PORT (default 127.0.0.1:52415).") var listen: String?
    @Option(name: .customLong("data-address"), help: "IPv4 address engines listen on, with each instance's key (default 127.0.0.1).") var dataAddress: String?
    @Option(help: "Hostname to report (default: the machine's).") var hostname: String?
    @Option(name: .customLong("log-format"), help: "text (stderr) or json (stdout).") var logFormat = "text"
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func run() async throws {
        let settings: AgentConfiguration
        do {
            settings = try AgentConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment, flags: [
                ("controller", controller), ("controllerCA", controllerCA), ("joinToken", joinToken), ("nodeName", nodeName), ("stateDir", stateDir),
                ("node_cache_path", nodeCachePath), ("listen", listen), ("dataAddress", dataAddress), ("hostname", hostname)])
        } catch {
            throw ValidationError(error.description)
        }
        let logger = LogSetup.logger(format: logFormat, level: logLevel)
        let agent = try NodeAgent(configuration: settings, logger: logger)
        let (host, port) = try settings.listenAddress()
        let app = Application(router: NodeAPI.router(agent), configuration: .init(address: .hostname(host, port: port), serverName: "metalplane-node"),
                              onServerRunning: { channel in
                                  logger.notice("node API listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                              }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: AgentLinkService(agent: agent))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// `metalplane engine-sim`: the OpenAI-compatible engine simulator (never real inference).
struct EngineSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-sim",
        abstract: "An OpenAI-compatible engine SIMULATOR for tests, demos and scale runs (placeholder tokens on a timing model, fault injection).")

    @Option(help: "Model name it serves.") var model: String
    @Option(help: "Host to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind.") var port: Int
    @Option(name: .customLong("ttft-ms"), help: "Time to first token, ms.") var ttftMillis = 40.0
    @Option(name: .customLong("itl-ms"), help: "Inter-token latency, ms.") var itlMillis = 8.0
    @Option(name: .customLong("max-num-seqs"), help: "Sequences served at once; more wait in a queue.") var maxNumSeqs = 8
    @Option(name: .customLong("warmup-seconds"), help: "Seconds before /health turns 200 (slow warmup).") var warmupSeconds = 0.0
    @Flag(name: .customLong("hang-warmup"), help: "Never become healthy (a wedged warmup).") var hangWarmup = false
    @Option(name: .customLong("error-rate"), help: "Fraction of requests answered 500.") var errorRate = 0.0
    @Option(name: .customLong("crash-after-seconds"), help: "Exit with status 3 after this long (a crashing runner).") var crashAfterSeconds: Double?
    @Option(name: .customLong("api-key"), help: "Answer only callers presenting this bearer key (as llama-server's --api-key); /health stays open.") var apiKey: String?
    @Option(name: .customLong("api-key-file"), help: "Read the key from this file (as llama-server's --api-key-file).") var apiKeyFile: String?

    func run() async throws {
        var settings = EngineSimulator.Settings(model: model)
        settings.timeToFirstTokenMillis = ttftMillis
        settings.interTokenMillis = itlMillis
        settings.maxNumSeqs = maxNumSeqs
        settings.warmupSeconds = warmupSeconds
        settings.hangWarmup = hangWarmup
        settings.errorRate = errorRate
        settings.crashAfterSeconds = crashAfterSeconds
        settings.apiKey = try apiKey ?? apiKeyFile.map { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else { throw ValidationError("cannot read --api-key-file \(path)") }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var logger = Logger(label: "engine-sim")
        logger.logLevel = .warning
        let app = Application(router: EngineSimulator(settings).router(), configuration: .init(address: .hostname(host, port: port), serverName: "engine-sim"),
                              logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: app)]
        if let crash = crashAfterSeconds { services.append(.init(service: InjectedCrash(after: .milliseconds(Int64(crash * 1000))))) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
