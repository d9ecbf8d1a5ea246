import HTTPTypes
import Backup
import Fabric
import Gateway
import Core
import Cryptography
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import IAM
import Logging
import NIOSSL
import NetworkPools
import Provisioner
import Reports
import Redfish
import Scheduler
import Quota
import Tenancy
import ServiceLifecycle
import Storage
import Telemetry

/// A controller's parts, opened and ready: the store migrated, IAM loaded, the platform bootstrapped.
///
/// The executable runs `application()` in a ServiceGroup; tests drive the same application
/// in-process or on a real socket.
public final class ControllerRuntime: Sendable {
    public let services: ControllerServices
    let workers: BlockingWorkPool
    let logger: Logger

    /// The application version reported by the OpenAPI document and logs.
    public static let version = "0.1.0"

    /// Opens the data directory, migrates the store, loads IAM and bootstraps the platform realm.
    public static func open(_ configuration: ControllerConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment,
                            clock: WallClock = .system, logger: Logger) async throws -> ControllerRuntime {
        // Metrics first: handles made before the bootstrap would report to nowhere.
        let metrics = PrometheusBootstrap.registry
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let databasePath = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("metalplane.sqlite").path
        let workers = BlockingWorkPool(threads: 2)
        let database: any Database
        let storeName: String
        if let url = configuration.store {
            // Blocking: connecting finds the primary among the hosts. A worker thread, not the cooperative pool.
            let postgres = try await workers.run { try PostgreSQLDatabase(url: url, clock: clock, logger: logger) }
            database = postgres
            storeName = postgres.location.redacted
        } else {
            database = try SQLiteDatabase(path: databasePath, synchronous: configuration.sqliteSynchronous, clock: clock)
            storeName = databasePath
        }
        try await database.migrate(ControllerSchema.migrations)
        // One secrets key seals every secret in the store: realm signing keys, BMC passwords.
        let secretsKey = try SecretsKey.load(configuration, environment: environment, logger: logger)
        let identity = IdentityService(
            database: database,
            configuration: IdentityConfiguration(
                publicBaseURL: configuration.effectivePublicURL, secretsKey: secretsKey, accessTokenSeconds: configuration.accessTokenSeconds,
                refreshTokenSeconds: configuration.refreshTokenSeconds,
                passwordHasher: PasswordHasher(logN: configuration.passwordHashCost, r: 8, p: 1),
                spareSigningKeys: configuration.spareSigningKeys),
            clock: clock, workers: workers, logger: logger, signals: database as? PostgreSQLDatabase)
        try await identity.start()
        try await PlatformBootstrap.run(identity: identity, dataDirectory: configuration.dataDirectory,
                                        password: environment["METALPLANE_BOOTSTRAP_PASSWORD"], logger: logger)
        let pools = PoolService(database: database, clock: clock)
        try await pools.ensure(.vrf, configuration.vrfPools ?? [.defaultVRF])
        try await pools.ensure(.vlan, configuration.vlanPools ?? [.defaultVLAN])
        let tenants = TenantService(database: database, identity: identity, clock: clock, logger: logger)
        await tenants.resumeInterruptedOnboarding()
        let redfish = RedfishClient(timeout: .seconds(Int64(configuration.bmcTimeoutSeconds)), attempts: configuration.bmcAttempts)
        let agents = AgentService(database: database, clock: clock, logger: logger, heartbeatSeconds: configuration.agentHeartbeatSeconds,
                                  telemetrySeconds: configuration.agentTelemetrySeconds, lostAfterSeconds: configuration.agentLostAfterSeconds,
                                  pulseSeconds: configuration.agentPulseSeconds, pulseLostAfterSeconds: configuration.agentPulseLostAfterSeconds,
                                  replica: database is SQLiteDatabase ? nil : ReplicaIdentity.holder, signals: database as? PostgreSQLDatabase)
        try await agents.start()
        let nodes = try NodeService(database: database, clock: clock, redfish: redfish,
                                    secretsKey: secretsKey, logger: logger,
                                    maxAttempts: configuration.nodeOperationAttempts,
                                    agents: agents, wipeTimeoutSeconds: configuration.wipeTimeoutSeconds)
        try FileManager.default.createDirectory(atPath: configuration.effectiveModelStorePath, withIntermediateDirectories: true)
        let instances = InstanceService(database: database, clock: clock, engineKeys: EngineKeys(secretsKey: secretsKey))
        let gateway = InferenceGateway(
            configuration: GatewayConfiguration(
                tracesDirectory: configuration.dataDirectory + "/traces", maxBodyBytes: max(configuration.maxBodyBytes, 8 << 20),
                traceRetentionDays: configuration.traceRetentionDays, traceJanitorInterval: .seconds(configuration.traceJanitorSeconds),
                swapLoadTimeout: .seconds(configuration.swapLoadTimeoutSeconds), swapHealthBudgetMillis: Double(configuration.swapHealthBudgetMillis)),
            database: database, instances: instances, identity: identity,
            renderError: { error, path, requestID in ErrorMapping.parts(for: ErrorMapping.domainError(from: error, path: path), requestID: requestID) },
            logger: logger)
        await gateway.router.refresh()
        let fabric = try FabricService(database: database, clock: clock, secretsKey: secretsKey, settings: FabricSettings(
            tenantNetwork: configuration.fabricTenantNetwork, provisioningVLAN: Int64(configuration.fabricProvisioningVLAN),
            quarantineVLAN: Int64(configuration.fabricQuarantineVLAN), reconcileSeconds: configuration.fabricReconcileSeconds), nodes: nodes)
        let fabricReconciler = FabricReconciler(fabric: fabric, agents: agents, audit: AuditLog(database: database), clock: clock, logger: logger)
        nodes.setIsolation(fabricReconciler)
        // The default rules; the missed-backup rule starts at the configured backup limit.
        let alertRules = AlertRuleStore(database: database, clock: clock)
        try await alertRules.ensureDefaults(thresholds: ["BackupMissed": configuration.backupAlertAfterHours * 3600])
        // SQLite's snapshot is VACUUM INTO; a PostgreSQL store's is a logical copy into a SQLite file (docs/ha.md).
        let backups = try BackupSetup.service(configuration, database: database, generatingKeys: true, workers: workers, environment: environment, logger: logger)
        let auditArchive = try BackupSetup.auditArchive(configuration, database: database, workers: workers, environment: environment, logger: logger)
        let telemetry = TelemetryStore(database: database, clock: clock)
        let telemetryArchive = try BackupSetup.telemetryArchive(configuration, store: telemetry, workers: workers, environment: environment, logger: logger)
        let services = ControllerServices(configuration: configuration, database: database, identity: identity,
                                          auditLog: AuditLog(database: database), pools: pools, tenants: tenants, nodes: nodes,
                                          agents: agents, instances: instances,
                                          modelStore: ModelStore(root: configuration.effectiveModelStorePath, workers: workers),
                                          gateway: gateway, fabric: fabric, fabricReconciler: fabricReconciler, backups: backups, auditArchive: auditArchive,
                                          telemetry: telemetry, telemetryArchive: telemetryArchive, alertRules: alertRules,
                                          incidents: IncidentStore(database: database, clock: clock),
                                          notificationTargets: NotificationTargets(database: database, clock: clock),
                                          costSettings: CostSettingsStore(database: database, clock: clock), reports: ReportStore(database: database, clock: clock),
                                          workers: workers, clock: clock, metrics: metrics, startedAt: clock.nowMillis(),
                                          migrationsDone: true)
        logger.info("store ready", metadata: ["store": .string(storeName)])
        return ControllerRuntime(services: services, workers: workers, logger: logger)
    }

    private init(services: ControllerServices, workers: BlockingWorkPool, logger: Logger) {
        self.services = services
        self.workers = workers
        self.logger = logger
    }

    /// Every route spec; `/openapi.json` serves the document built from them.
    public func routeSpecs() -> [RouteSpec] {
        ControllerRoutes.all(services, openAPIDocument: openAPIDocument())
    }

    /// The OpenAPI document, as served at `/openapi.json`.
    public func openAPIDocument() -> [UInt8] {
        OpenAPIDocument.build(ControllerRoutes.all(services), version: Self.version)
    }

    /// The router with its middleware and every route.
    public func router() -> Router<PortalContext> {
        // Built once: the specs (with the OpenAPI document they serve) drive registration and the 405s.
        let specs = routeSpecs()
        let router = Router(context: PortalContext.self)
        router.add(middleware: RequestIDMiddleware(maxBodyBytes: services.configuration.maxBodyBytes))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: UndeclaredMethodMiddleware(specs))
        let registrar = RouteRegistrar(identity: services.identity, tenants: services.tenants, agents: services.agents, auditLog: services.auditLog,
                                       idempotency: IdempotencyStore(database: services.database, clock: services.clock),
                                       clock: services.clock)
        registrar.register(specs, on: router)
        let publicURL = services.configuration.effectivePublicURL
        PortalPages(api: PortalAPI(specs: specs, registrar: registrar, publicURL: publicURL),
                    sessions: PortalSessions(identity: services.identity, publicURL: publicURL, refreshSeconds: services.identity.sessionSeconds))
            .register(on: router)
        return router
    }

    /// The HTTP/1.1 server, with the inference router in each connection's pipeline; over TLS when
    /// the configuration names a certificate and key.
    public func httpServer() throws -> HTTPServerBuilder {
        let gateway = services.gateway
        let http = HTTPServerBuilder.http1(routingAhead: { gateway.channelHandler() })
        let configuration = services.configuration
        guard let certificate = configuration.tlsCertificate, let key = configuration.tlsKey else { return http }
        let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        return try .tls(http, tlsConfiguration: tls)
    }

    /// The HTTP application bound to `host:port`.
    public func application(host: String, port: Int) throws -> some ApplicationProtocol {
        Application(router: router(), server: try httpServer(), configuration: .init(address: .hostname(host, port: port), serverName: "metalplane"),
                    logger: logger)
    }

    /// The background loops that run beside the HTTP server: node operations, and the watch that
    /// marks silent agents lost and fails their instances.
    public func backgroundServices() -> [any Service] {
        let singletons: [(String, any Service)] = [
            ("node-operations", NodeOperationRunner(nodes: services.nodes)),
            ("fabric-reconciler", services.fabricReconciler),
            ("backup-schedule", BackupSchedule(backups: services.backups, configuration: services.configuration,
                                               clock: services.clock, logger: logger)),
            ("alert-evaluator", AlertEvaluation(rules: services.alertRules, telemetry: services.telemetry, agents: services.agents,
                                                signals: PlatformSignals(agents: services.agents, nodes: services.nodes, instances: services.instances,
                                                                         tenants: services.tenants, backups: services.backups, started: services.clock.nowMillis()),
                                                interval: .milliseconds(Int64(services.configuration.ruleEvaluationSeconds * 1000)), logger: logger)),
            ("incident-correlator", IncidentCorrelation(incidents: services.incidents, agents: services.agents, nodes: services.nodes, rules: services.alertRules,
                                                        interval: .seconds(1), logger: logger)),
            ("incident-notifier", IncidentNotifier(targets: services.notificationTargets, externalURL: services.configuration.effectivePublicURL,
                                                   interval: .seconds(1), logger: logger)),
            ("telemetry-compactor", TelemetryCompactor(store: services.telemetry, archive: services.telemetryArchive, hotDays: services.configuration.telemetryHotDays, logger: logger)),
            ("report-schedule", ReportSchedule(services: services, interval: .seconds(300), logger: logger)),
            ("directory-sync", DirectorySyncLoop(identity: services.identity, clock: services.clock, interval: .seconds(30), logger: logger)),
            ("audit-archiver", AuditArchiver(archive: services.auditArchive, interval: .milliseconds(Int64(services.configuration.auditArchiveSeconds * 1000)),
                                             retentionMonths: services.configuration.auditArchiveMonths, logger: logger)),
        ]
        // On SQLite there is one controller per store: the loops just run. On PostgreSQL several
        // replicas may share the store, and each loop runs on the one holding its lease.
        let led: [any Service] = services.database is SQLiteDatabase ? singletons.map(\.1) : singletons.map { name, service in
            LeaderOnly(lease: name, inner: service, database: services.database, holder: ReplicaIdentity.holder,
                       leaseSeconds: services.configuration.leaderLeaseSeconds, renewEvery: .milliseconds(Int64(services.configuration.leaderRenewSeconds * 1000)),
                       logger: logger)
        }
        // Each replica's presence lease says it is alive: the agents whose streams it held are adopted by another once it runs out.
        let replicaOnly: [any Service] = (services.database as? PostgreSQLDatabase).map {
            [ReplicaCacheListener(store: $0, identity: services.identity, agents: services.agents, logger: logger),
             LeaderOnly(lease: AgentService.presenceLease(ReplicaIdentity.holder), inner: Presence(), database: $0, holder: ReplicaIdentity.holder,
                        leaseSeconds: services.configuration.leaderLeaseSeconds,
                        renewEvery: .milliseconds(Int64(services.configuration.leaderRenewSeconds * 1000)), logger: logger)]
        } ?? []
        let keyFiller: [any Service] = services.configuration.backgroundSigningKeys
            ? [SigningKeyFiller(identity: services.identity, interval: .seconds(1), logger: logger)] : []
        return led + replicaOnly + keyFiller + [TelemetryFlusher(store: services.telemetry, logger: logger), AgentWatch(agents: services.agents, instances: services.instances, router: services.gateway.router)] + services.gateway.services()
    }

    /// Closes the store (after queued writes) and the worker threads.
    public func close() async {
        await services.gateway.close()
        await services.database.close()
        await services.identity.shutdown()
        await services.nodes.shutdown()
        await workers.shutdown()
    }
}

/// Closes the runtime when the ServiceGroup shuts down; listed before the HTTP server, so it
/// stops after the server has drained in-flight requests.
public struct RuntimeService: Service {
    let runtime: ControllerRuntime

    public init(runtime: ControllerRuntime) { self.runtime = runtime }

    public func run() async throws {
        try? await gracefulShutdown()
        await runtime.close()
        runtime.logger.info("store closed")
    }
}

import NIOCore
