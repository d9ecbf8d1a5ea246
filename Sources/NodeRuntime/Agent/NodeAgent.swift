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
    /// The node API's verifier of operators' tokens (the platform realm's keys, fetched from the controller).
    let operatorTokens: OperatorTokens
    let events: EventLog
    let stager: Stager
    let records: RunnerRecords
    /// Everything the agent starts that outlives the call starting it (runner loops, model copies,
    /// a wipe, a restart): children of the link service, cancelled and awaited at shutdown.
    let work = OwnedWork()
    let credentials: CredentialFile
    let session = NIOLockedValueBox<RegistrationResponse?>(nil)
    let supervisors = NIOLockedValueBox<[String: RunnerSupervisor]>([:])
    let handledCommands = NIOLockedValueBox<Set<String>>([])
    let lastEviction = NIOLockedValueBox<[String]>([])
    /// Evictions not yet delivered to the controller (they ride on the next telemetry batch).
    let pendingEvictions = NIOLockedValueBox<[StagingEviction]>([])
    let telemetrySampler: TelemetrySampler
    let alertSampler: TelemetrySampler
    let thresholds: ThresholdMonitor
    let pendingAlerts = NIOLockedValueBox<[AlertReport]>([])
    /// The alert loop's newest storage-latency probe (seconds), which the next telemetry batch carries: one probe, two uses.
    let lastStorageLatency = NIOLockedValueBox<Double?>(nil)
    /// Set by a release wipe: nothing starts again on this node until the agent restarts (a redeploy).
    let wiping = NIOLockedValueBox(false)
    /// The tenant addressing last applied to the data interface (nil: none yet).
    let appliedNetwork = NIOLockedValueBox<NodeNetworkSpec?>(nil)
    /// The last LLDP reading and when it was taken (read at most every 5 s).
    let neighbors = NIOLockedValueBox<(links: [LinkNeighbor]?, at: ContinuousClock.Instant?)>((nil, nil))

    public init(configuration: AgentConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(atPath: configuration.nodeCachePath, withIntermediateDirectories: true)
        area = StagingArea(root: configuration.nodeCachePath)
        link = try ControllerLink(baseURLs: configuration.controllerURLs, caBundle: configuration.controllerCA)
        operatorTokens = OperatorTokens(link: link)
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
}
