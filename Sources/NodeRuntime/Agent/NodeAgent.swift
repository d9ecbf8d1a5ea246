import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import ServiceLifecycle

/// The node agent: joins the controller (outbound only), heartbeats its observed state and runs
/// the desired one, stages models, supervises runners, applies the eviction lifecycle, and keeps
/// the event log. The node API (`NodeAPI`) reads and drives it.
public final class NodeAgent: Sendable {
    public static let version = "0.1.0"

    let configuration: AgentConfiguration
    let logger: Logger
    let workers = BlockingWorkPool(threads: 2)
    let area: StagingArea
    let link: ControllerLink
    let events: EventLog
    let stager: Stager
    let records: RunnerRecords
    /// Everything the agent starts that outlives the call starting it (runner loops, model copies,
    /// a wipe, a restart): children of the link service, cancelled and awaited at shutdown.
    let work = OwnedWork()
    private let credentials: CredentialFile
    private let session = NIOLockedValueBox<RegistrationResponse?>(nil)
    private let supervisors = NIOLockedValueBox<[String: RunnerSupervisor]>([:])
    private let handledCommands = NIOLockedValueBox<Set<String>>([])
    private let lastEviction = NIOLockedValueBox<[String]>([])
    let telemetrySampler: TelemetrySampler
    let alertSampler: TelemetrySampler
    let thresholds: ThresholdMonitor
    private let pendingAlerts = NIOLockedValueBox<[AlertReport]>([])
    /// Set by a release wipe: nothing starts again on this node until the agent restarts (a redeploy).
    private let wiping = NIOLockedValueBox(false)

    public init(configuration: AgentConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(atPath: configuration.nodeCachePath, withIntermediateDirectories: true)
        area = StagingArea(root: configuration.nodeCachePath)
        link = ControllerLink(baseURL: configuration.controllerURL)
        let eventLogger = logger
        events = EventLog(EventLog.Settings(directory: configuration.effectiveEventLogDirectory, maxBytes: configuration.eventLogMaxBytes,
                                            keepEvents: configuration.eventLogKeepEvents, archiveMaxBytes: configuration.eventLogArchiveMaxBytes,
                                            freeSpaceFloorBytes: configuration.eventLogFreeSpaceFloorBytes, checkEvery: configuration.eventLogCheckEvery),
                          onDegrade: { eventLogger.warning("\($0)") })
        stager = Stager(area: area, link: link, workers: workers, logger: logger, events: events, work: work)
        records = RunnerRecords(stateDirectory: configuration.stateDirectory)
        credentials = CredentialFile(stateDirectory: configuration.stateDirectory)
        telemetrySampler = TelemetrySampler(workers: workers)
        alertSampler = TelemetrySampler(workers: workers)
        thresholds = ThresholdMonitor(configuration: configuration)
    }

    /// This session's registration, once joined.
    var current: RegistrationResponse? { session.withLockedValue { $0 } }

    // MARK: Link

    /// Startup reconciliation (orphaned runners and staged copies), then the link loop until shutdown.
    public func runLink() async {
        let orphans = records.reapOrphans(logger: logger)
        if orphans > 0 { events.append(kind: "runner.orphans-stopped", fields: ["count": String(orphans)]) }
        if configuration.cleanupOnDeactivate { await evict(trigger: "startup", keepBytes: configuration.stagingKeepRecentBytes) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.work.run() }
            group.addTask { await self.telemetryLoop() }
            group.addTask { await self.alertLoop() }
            await linkLoop()
            // Runners stop gracefully (SIGTERM, then SIGKILL) while their supervisors still run;
            // then the owned work ends, and with it every loop.
            await stopAll()
            work.finish()
            group.cancelAll()
        }
    }

    private func linkLoop() async {
        var backoff = 0.5
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if current == nil { try await register() }
                do {
                    try await heartbeat()
                } catch AgentError.controller(let status, _) where status == 401 {
                    // The controller no longer knows this session (it marked the node lost): join again, with a new node id.
                    logger.warning("session unknown to the controller; registering again (the node id changes)")
                    session.withLockedValue { $0 = nil }
                    continue
                }
                backoff = 0.5
                try await Task.sleep(for: .milliseconds(Int64((current?.heartbeatSeconds ?? 5) * 1000)))
            } catch is CancellationError {
                break
            } catch {
                logger.warning("cannot reach or join the controller; retrying with backoff", metadata: ["error": .string("\(error)"), "backoffSeconds": .stringConvertible(backoff)])
                try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
                backoff = min(backoff * 2, 30)
            }
        }
    }

    /// Every telemetry interval (the controller sets it at registration): one batch to the controller.
    private func telemetryLoop() async {
        _ = await telemetrySampler.sample([])
        while !Task.isCancelled {
            let seconds = current?.telemetrySeconds ?? 1
            do { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) } catch { return }
            guard let token = current?.sessionToken else { continue }
            let batch = await telemetrySampler.sample(supervisors.withLockedValue { Array($0.values) }.map(\.status))
            do {
                try await link.telemetry(token: token, batch: batch)
            } catch {
                logger.warning("telemetry not delivered", metadata: ["error": .string("\(error)")])
            }
        }
    }

    /// Every `alertCheckSeconds`: thresholds checked on the node; alerts go out at once and into the event log.
    private func alertLoop() async {
        _ = await alertSampler.sample([])
        let folder = configuration.nodeCachePath
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(Int64(configuration.alertCheckSeconds * 1000))) } catch { return }
            let batch = await alertSampler.sample([])
            let latency = try? await workers.run { ThresholdMonitor.storageLatency(in: folder) }
            let alerts = thresholds.evaluate(batch, storageLatencySeconds: latency ?? nil)
            guard !alerts.isEmpty else { continue }
            for alert in alerts {
                events.append(kind: "alert", fields: ["correlationId": alert.correlationId, "severity": alert.severity.rawValue, "kind": alert.kind,
                                                      "message": alert.message])
                logger.log(level: alert.severity == .critical ? .critical : alert.severity == .warning ? .warning : .info, "node alert: \(alert.message)",
                           metadata: ["kind": .string(alert.kind), "correlationId": .string(alert.correlationId)])
            }
            // Alerts raised while the controller is unreachable wait for the next chance (they are in the event log meanwhile).
            let waiting = pendingAlerts.withLockedValue { $0 += alerts; return $0 }
            if let token = current?.sessionToken, (try? await link.alerts(token: token, AlertUpload(alerts: waiting))) != nil {
                pendingAlerts.withLockedValue { $0.removeFirst(min(waiting.count, $0.count)) }
            }
        }
    }

    private func register() async throws {
        let saved = credentials.load().flatMap { $0.controllerURL == configuration.controllerURL ? $0 : nil }
        guard saved != nil || configuration.joinToken != nil else {
            throw AgentError.io("no join token and no saved node credential: pass --join-token")
        }
        let inventory = try await workers.run { InventoryCollector.collect() }
        let request = RegistrationRequest(joinToken: saved == nil ? configuration.joinToken : nil, nodeCredential: saved?.nodeCredential,
                                          hostname: configuration.hostname, nodeName: configuration.nodeName, agentVersion: Self.version,
                                          nodeAPIURL: "http://\(configuration.listen)", inventory: inventory)
        let answer: RegistrationResponse
        do {
            answer = try await link.register(request)
        } catch AgentError.controller(let status, let body) where status == 401 && saved != nil && configuration.joinToken != nil {
            // The saved credential is no longer known (a restored controller): join again with the token.
            logger.warning("saved node credential refused; joining with the join token", metadata: ["answer": .string(body)])
            var retry = request
            retry.nodeCredential = nil
            retry.joinToken = configuration.joinToken
            answer = try await link.register(retry)
        }
        if let credential = answer.nodeCredential {
            do {
                try credentials.save(.init(agentId: answer.agentId, nodeCredential: credential, controllerURL: configuration.controllerURL))
            } catch {
                logger.error("cannot save the node credential: after a restart this node needs a new join token", metadata: ["error": .string("\(error)")])
            }
        }
        session.withLockedValue { $0 = answer }
        events.append(kind: "agent.joined", fields: ["agent": answer.agentId, "session": answer.sessionId])
        logger.info("joined the controller", metadata: ["agent": .string(answer.agentId), "session": .string(answer.sessionId)])
    }

    private func heartbeat() async throws {
        guard let token = current?.sessionToken else { return }
        let answer = try await link.heartbeat(token: token, observed: await observed())
        await reconcile(answer.desired)
        for command in answer.commands { await handle(command) }
    }

    /// What the agent reports: its instances, staging copies and storage.
    func observed() async -> ObservedState {
        let instances = supervisors.withLockedValue { Array($0.values) }.map(\.status).sorted { $0.instanceId < $1.instanceId }
        return ObservedState(instances: instances, staging: stager.statuses, storage: try? await storage())
    }

    // MARK: Desired state

    /// Starts instances that are wanted and not running; stops (and evicts after) those no longer wanted.
    func reconcile(_ desired: DesiredState) async {
        let wanted = Dictionary(desired.instances.map { ($0.instanceId, $0) }, uniquingKeysWith: { $1 })
        let running = supervisors.withLockedValue { $0 }
        for (id, supervisor) in running where wanted[id] != supervisor.spec {
            supervisors.withLockedValue { $0[id] = nil }
            await supervisor.stop()
            logger.info("instance deactivated", metadata: ["instance": .string(id), "model": .string(supervisor.spec.modelId)])
            for model in supervisor.modelsInUse { await touch(model) }
            if configuration.cleanupOnDeactivate { await evict(trigger: "deactivation", keepBytes: configuration.stagingKeepRecentBytes) }
        }
        for (id, spec) in wanted where supervisors.withLockedValue({ $0[id] }) == nil && !wiping.withLockedValue({ $0 }) {
            let supervisor = RunnerSupervisor(spec: spec, context: supervisorContext())
            supervisors.withLockedValue { $0[id] = supervisor }
            supervisor.start()
            logger.info("instance starting", metadata: ["instance": .string(id), "model": .string(spec.modelId), "engine": .string(spec.engine.rawValue)])
        }
    }

    private func supervisorContext() -> RunnerSupervisor.Context {
        let area = self.area
        let workers = self.workers
        return RunnerSupervisor.Context(
            configuration: configuration, stager: stager, records: records, events: events, logger: logger,
            selfExecutable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
            token: { [session] in session.withLockedValue { $0?.sessionToken } }, work: work,
            onUse: { model in workers.submit { area.touch(model, at: Int64(Date().timeIntervalSince1970 * 1000)) } })
    }

    private func touch(_ model: String) async {
        let area = self.area
        _ = try? await workers.run { area.touch(model, at: Int64(Date().timeIntervalSince1970 * 1000)) }
    }

    private func handle(_ command: AgentCommand) async {
        switch command {
        case .purgeStaging(let id, let modelId):
            guard handledCommands.withLockedValue({ $0.insert(id).inserted }) else { return }
            await evict(trigger: "purge", keepBytes: 0, only: modelId)
        case .restart(let id):
            guard handledCommands.withLockedValue({ $0.insert(id).inserted }) else { return }
            await restartInPlace()
        case .wipe(let id):
            guard handledCommands.withLockedValue({ $0.insert(id).inserted }) else { return }
            // Erasing disks takes long: heartbeats go on meanwhile, or the controller would think the node lost.
            work.spawn {
                let report = await self.wipe(commandID: id)
                for attempt in 1...5 {
                    guard let token = self.current?.sessionToken else { try? await Task.sleep(for: .seconds(attempt)); continue }
                    do {
                        try await self.link.wiped(token: token, report)
                        return
                    } catch {
                        self.logger.error("wipe done but not yet reported; retrying", metadata: ["error": .string("\(error)")])
                        try? await Task.sleep(for: .seconds(attempt))
                    }
                }
            }
        }
    }

    /// Models in use now: every instance's model and its companions (never evicted from under a runner).
    var modelsInUse: Set<String> {
        Set(supervisors.withLockedValue { Array($0.values) }.flatMap(\.modelsInUse))
    }

    /// The one eviction mechanism: `trigger` is deactivation, startup or purge.
    @discardableResult
    func evict(trigger: String, keepBytes: Int64, only modelId: String? = nil) async -> [String] {
        let inUse = modelsInUse
        let area = self.area
        let victims = (try? await workers.run { () -> [String] in
            let victims = EvictionPlan.victims(area.entries(), inUse: inUse, keepBytes: keepBytes, only: modelId)
            for victim in victims { try? area.remove(victim) }
            return victims
        }) ?? []
        lastEviction.withLockedValue { $0 = victims }
        for victim in victims {
            events.append(kind: "staging.evicted", fields: ["model": victim, "trigger": trigger])
            logger.info("staged copy evicted", metadata: ["model": .string(victim), "trigger": .string(trigger)])
        }
        return victims
    }

    /// The node's storage picture for `GET /store/storage`.
    func storage() async throws -> StorageSummary {
        let inUse = modelsInUse
        let area = self.area
        let eventStats = events.stats
        return try await workers.run {
            StorageSummary(models: area.entries().map { .init(modelId: $0.modelId, bytes: $0.bytes, lastUsedAt: $0.lastUsedAt, inUse: inUse.contains($0.modelId)) },
                           eventLogBytes: eventStats.bytes, eventLogCountingOnly: eventStats.countingOnly, freeBytes: area.freeBytes())
        }
    }

    /// The release wipe: stop every runner, delete every staged model, erase the configured devices.
    func wipe(commandID: String) async -> WipeReport {
        logger.notice("wiping the node for release", metadata: ["command": .string(commandID), "devices": .string(configuration.wipeDevices.joined(separator: ","))])
        events.append(kind: "wipe.started", fields: ["command": commandID])
        wiping.withLockedValue { $0 = true }
        await stopAll()
        let area = self.area
        let devices = configuration.wipeDevices
        let logger = self.logger
        do {
            let bytes = try await workers.run { () -> Int64 in
                for entry in area.entries() { try area.remove(entry.modelId) }
                var total: Int64 = 0
                for device in devices { total += try DeviceEraser.erase(device, logger: logger) }
                return total
            }
            events.append(kind: "wipe.done", fields: ["command": commandID, "bytes": String(bytes)])
            return WipeReport(commandId: commandID, erased: devices, bytes: bytes)
        } catch {
            events.append(kind: "wipe.failed", fields: ["command": commandID, "error": "\(error)"])
            logger.error("wipe failed", metadata: ["error": .string("\(error)")])
            return WipeReport(commandId: commandID, erased: [], bytes: 0, error: "\(error)")
        }
    }

    /// Stops every runner.
    func stopAll() async {
        let all = supervisors.withLockedValue { current -> [RunnerSupervisor] in
            defer { current = [:] }
            return Array(current.values)
        }
        for supervisor in all { await supervisor.stop() }
        events.flush()
    }

    /// Asks for a restart in place shortly (the caller's answer goes out first); false while shutting down.
    func requestRestart() -> Bool {
        work.spawn {
            try? await Task.sleep(for: .milliseconds(200))
            guard !Task.isCancelled else { return }
            await self.restartInPlace()
        }
    }

    /// `POST /admin/restart`: stop the runners, then replace the process image in place (same
    /// arguments); the new image rejoins with its saved credential.
    func restartInPlace() async {
        logger.notice("restarting in place (re-exec); the node rejoins with a new session")
        events.append(kind: "agent.restart")
        await stopAll()
        // Sockets (the node API's listener) and files must not leak into the new image: it binds the same port.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        let path = "/proc/self/exe"
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv(path, arguments)
        logger.error("re-exec failed", metadata: ["errno": .stringConvertible(errno)])
    }
}
