import IAM
import Logging
import NIOCore
import Scheduler
import ServiceLifecycle
import Storage

/// The inference data plane, assembled: the router's state, the usage ledger, the traces, the
/// router's settings and the hot-swap runner. The composition root adds `channelHandler()` to every
/// HTTP connection's pipeline and runs `services()` in its ServiceGroup.
public final class InferenceGateway: Sendable {
    public let router: InferenceRouter
    public let usage: UsageLedger
    public let traces: TraceStore
    public let settings: RouterSettings
    public let swaps: SwapRunner
    let identity: IdentityService
    let configuration: GatewayConfiguration
    let logger: Logger

    public init(configuration: GatewayConfiguration, database: any Database, instances: InstanceService, identity: IdentityService,
                renderError: @escaping ErrorRenderer, logger: Logger) {
        let usage = UsageLedger(database: database, logger: logger)
        let traces = TraceStore(directory: configuration.tracesDirectory)
        let settings = RouterSettings(database: database)
        let router = InferenceRouter(instances: instances, settings: settings, usage: usage, traces: traces, renderError: renderError, logger: logger)
        self.router = router
        self.usage = usage
        self.traces = traces
        self.settings = settings
        self.swaps = SwapRunner(hotSwap: HotSwap(instances: instances, router: router, logger: logger, loadTimeout: configuration.swapLoadTimeout,
                                                 healthBudgetMillis: configuration.swapHealthBudgetMillis, drainTimeout: configuration.swapDrainTimeout))
        self.identity = identity
        self.configuration = configuration
        self.logger = logger
    }

    /// A new connection's handler for `POST /v1/…` inference requests (one per connection).
    public func channelHandler() -> any RemovableChannelHandler {
        RouterChannelHandler(router: router, identity: identity, maxBodyBytes: configuration.maxBodyBytes)
    }

    /// The gateway's loops: the route table's refresh and usage flushes, the trace janitor, the hot-swaps.
    public func services() -> [any Service] {
        [GatewayWork(work: router.work), RouterUpkeep(router: router, usage: usage),
         TraceJanitor(traces: traces, retentionDays: configuration.traceRetentionDays, interval: configuration.traceJanitorInterval, logger: logger),
         swaps]
    }

    /// Switches tracing for new requests, on this controller now and, through the store, on every other.
    public func setTracing(_ enabled: Bool) async throws {
        try await settings.setTracing(enabled)
        traces.isEnabled = enabled
    }

    /// Writes the usage records still buffered (at shutdown).
    public func close() async { await usage.flush() }
}
